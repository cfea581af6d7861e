/// Why the harness could not give a test the server it asked for. Every case says what is
/// missing and how to get it, because the first reader is someone whose test just failed.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    static func missingBinary(_ name: String, looked: String) -> HarnessError {
        HarnessError("\(name) not found (looked \(looked)). Run `make test`, which installs it, or see scripts/install-deps.sh.")
    }
}
