import Foundation
import VigilSystem

/// A command run to completion with what it printed, for tests of Vigil's own executables and
/// of real tools (etcdctl, psql): VigilSystem's one runner.
public typealias CommandRun = ToolRun

extension ToolRun {
    public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String?] = [:]) async throws -> ToolRun {
        try await capture(executable, arguments, environment: environment)
    }

    /// One of the package's own executables (vigil, vigilctl), from the directory the
    /// test binary was built into.
    public static func product(_ name: String) throws -> String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // The test binary may sit inside a bundle (…/debug/vigilPackageTests.xctest).
        while dir.path != "/", !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent(name).path) {
            if dir.lastPathComponent == "debug" || dir.lastPathComponent == "release" { break }
            dir.deleteLastPathComponent()
        }
        let path = dir.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(name) is not built next to the tests (looked at \(path)); run `swift build --build-tests` or `make test`.")
        }
        return path
    }
}
