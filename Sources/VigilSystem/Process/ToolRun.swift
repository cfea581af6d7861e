import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A program run to completion: how it ended and what it printed. The one way Vigil runs a
/// tool and waits for it, whether that is initdb under a deadline, etcdctl in a test, psql
/// in the lab or the operator's editor.
public struct ToolRun: Sendable {
    /// nil when the run was killed at its deadline.
    public var status: TerminationStatus?
    public var stdout: String
    public var stderr: String

    public init(status: TerminationStatus?, stdout: String, stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Everything it printed, standard output first.
    public var output: String { stdout + stderr }
    public var succeeded: Bool { status?.isSuccess == true }
    /// The exit code, or nil when it was killed by a signal or at its deadline.
    public var exitCode: Int32? {
        if case let .exited(code) = status { return code }
        return nil
    }
    /// What it printed on standard error, else on standard output: the words for a failure.
    public var errorOutput: String {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? stdout.trimmingCharacters(in: .whitespacesAndNewlines) : text
    }

    /// Runs a tool as `owner` with a deadline, its output (both streams, interleaved as written)
    /// going through `logPath`, which is removed afterwards; at the deadline the tool is
    /// killed and `status` is nil. For PostgreSQL's tools, which must run as its user.
    public static func run(_ executable: String, _ arguments: [String], owner: ProcessOwner? = nil,
                           environment: [String: String] = [:], timeout: Duration,
                           logPath: String) async throws(SystemError) -> ToolRun {
        try? FileManager.default.removeItem(atPath: logPath)
        let process = try await ChildProcess.spawn(executable, arguments, owner: owner, environment: environment,
                                                   logPath: logPath)
        let status = await process.waitForExit(timeout: timeout)
        if status == nil {
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(5))
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: logPath)
        return ToolRun(status: status, stdout: output)
    }

    /// Runs a tool as this process and keeps standard output and error apart (up to 1 MiB
    /// each). `environment` is laid over this process's own; a nil value removes a variable.
    public static func capture(_ executable: String, _ arguments: [String],
                               environment: [String: String?] = [:]) async throws(SystemError) -> ToolRun {
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(keys(environment)),
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            return ToolRun(status: result.terminationStatus, stdout: result.standardOutput,
                           stderr: result.standardError)
        } catch {
            throw SystemError.start("cannot run \(executable): \(error)")
        }
    }

    /// Runs a program on this terminal (standard input, output and error are this process's),
    /// as an editor must; nothing is captured.
    public static func interactive(_ executable: String, _ arguments: [String]) async throws(SystemError) -> ToolRun {
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                input: .fileDescriptor(.standardInput, closeAfterSpawningProcess: false),
                output: .fileDescriptor(.standardOutput, closeAfterSpawningProcess: false),
                error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false))
            return ToolRun(status: result.terminationStatus, stdout: "")
        } catch {
            throw SystemError.start("cannot run \(executable): \(error)")
        }
    }

    private static func keys(_ environment: [String: String?]) -> [Environment.Key: String?] {
        var keyed: [Environment.Key: String?] = [:]
        for (key, value) in environment { keyed[Environment.Key(stringLiteral: key)] = value }
        return keyed
    }
}
