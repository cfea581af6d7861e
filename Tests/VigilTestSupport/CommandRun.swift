import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a command to completion and keeps what it printed, for tests of Vigil's own
/// executables and of real tools (etcdctl, psql).
public struct CommandRun: Sendable {
    public var status: TerminationStatus
    public var stdout: String
    public var stderr: String

    public var exitCode: Int32? {
        if case let .exited(code) = status { return code }
        return nil
    }

    public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String?] = [:]) async throws -> CommandRun {
        var env: [Environment.Key: String?] = [:]
        for (key, value) in environment { env[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(env),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        return CommandRun(status: result.terminationStatus, stdout: result.standardOutput,
                          stderr: result.standardError)
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
