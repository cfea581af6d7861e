import Foundation
import Subprocess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A server process a test started: its PID, its log file, and a way to stop it and to learn
/// how it ended. Output goes to the log file so a failing test can show why a server died.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logPath: String
    /// Set by the task that waits for the process, once it has ended.
    private let exitStatus: ExitStatus

    private final class ExitStatus: Sendable {
        let value = Mutex<TerminationStatus?>(nil)
        func withLock<R>(_ body: (inout TerminationStatus?) -> R) -> R { value.withLock { body(&$0) } }
    }

    private init(pid: pid_t, logPath: String, exitStatus: ExitStatus) {
        self.pid = pid
        self.logPath = logPath
        self.exitStatus = exitStatus
    }

    /// Starts `executable` and returns once it has been spawned (not once it is ready).
    public static func spawn(_ executable: String, _ arguments: [String], user: ServiceUser? = nil,
                             environment: [String: String] = [:], logPath: String) async throws -> ChildProcess {
        let log = try FileDescriptor.open(FilePath(logPath), .writeOnly, options: [.create, .append],
                                          permissions: [.ownerReadWrite, .groupRead, .otherRead])
        var options = PlatformOptions()
        if let user, user.switches {
            options.userID = user.uid
            options.groupID = user.gid
            options.supplementaryGroups = [user.gid]
        }
        // Its own process group, so a signal meant for the test runner does not reach it first.
        options.processGroupID = 0
        var env: [Environment.Key: String?] = [:]
        for (key, value) in environment { env[Environment.Key(stringLiteral: key)] = value }
        let started = AsyncStream<pid_t>.makeStream()
        let exitStatus = ExitStatus()
        let termination = Task<TerminationStatus, any Error> {
            defer { started.continuation.finish() }
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                environment: .inherit.updating(env), platformOptions: options,
                input: .none, output: .fileDescriptor(log, closeAfterSpawningProcess: true),
                error: .fileDescriptor(log, closeAfterSpawningProcess: false)
            ) { execution in
                started.continuation.yield(execution.processIdentifier.value)
            }
            exitStatus.withLock { $0 = result.terminationStatus }
            return result.terminationStatus
        }
        var iterator = started.stream.makeAsyncIterator()
        guard let pid = await iterator.next() else {
            do {
                _ = try await termination.value
                throw HarnessError("\(executable) did not start")
            } catch let error as HarnessError {
                throw error
            } catch {
                throw HarnessError("cannot start \(executable): \(error)")
            }
        }
        return ChildProcess(pid: pid, logPath: logPath, exitStatus: exitStatus)
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// How the process ended, or nil if it is still running after `timeout`.
    public func waitForExit(timeout: Duration) async -> TerminationStatus? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus.withLock({ $0 }) { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public var hasExited: Bool { exitStatus.withLock { $0 } != nil }

    /// Sends `signal`, waits up to `grace`, then kills. Returns how it ended.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async -> TerminationStatus? {
        self.signal(signal)
        if let status = await waitForExit(timeout: grace) { return status }
        self.signal(SIGKILL)
        return await waitForExit(timeout: .seconds(5))
    }

    /// The last lines of the log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
