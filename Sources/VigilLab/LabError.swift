/// Why the lab could not do what was asked, in words for whoever ran it.
public struct LabError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
