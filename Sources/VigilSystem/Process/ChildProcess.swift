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

/// A process Vigil started and watches: PostgreSQL itself, or a tool. Its exit is observed
/// the moment it happens (swift-subprocess awaits the child), which is how a crashed
/// postmaster is noticed within milliseconds rather than on the next health query.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logPath: String
    private let box: ExitBox

    private final class ExitBox: Sendable {
        let status = Mutex<TerminationStatus?>(nil)
        let waiters = Mutex<[CheckedContinuation<TerminationStatus, Never>]>([])

        func finish(_ status: TerminationStatus) {
            self.status.withLock { $0 = status }
            let waiting = waiters.withLock { waiters in
                defer { waiters.removeAll() }
                return waiters
            }
            for waiter in waiting { waiter.resume(returning: status) }
        }
    }

    private init(pid: pid_t, logPath: String, box: ExitBox) {
        self.pid = pid
        self.logPath = logPath
        self.box = box
    }

    /// Starts `executable` with its output appended to `logPath` (nil: to this process's own
    /// standard output and error, as a callback's is); returns once it is running.
    public static func spawn(_ executable: String, _ arguments: [String], owner: ProcessOwner? = nil,
                             environment: [String: String] = [:], workingDirectory: String? = nil,
                             logPath: String?) async throws(SystemError) -> ChildProcess {
        let log: FileDescriptor?
        if let logPath {
            do {
                log = try FileDescriptor.open(FilePath(logPath), .writeOnly, options: [.create, .append],
                                              permissions: [.ownerReadWrite])
            } catch {
                throw SystemError.permission("cannot open the log file \(logPath): \(error)")
            }
            if let owner { try owner.own(logPath) }
        } else {
            log = nil
        }
        var executable = executable
        var arguments = arguments
        var workingDirectory = workingDirectory
        if let owner, owner.switchesUser {
            // Our own working directory may be closed to that user (a checkout under /root),
            // and some programs chdir back to it (Python's multiprocessing does).
            workingDirectory = workingDirectory ?? "/"
            // setpriv switches the user and then execs, so the PID is still the program's own.
            // (Asking swift-subprocess for another uid makes it fork and call setgroups in the
            // child, which can deadlock in a multithreaded process.)
            let prefix = owner.commandPrefix
            arguments = Array(prefix.dropFirst()) + [executable] + arguments
            executable = prefix[0]
        }
        var options = PlatformOptions()
        // A process group of its own: a Ctrl-C meant for the agent must not reach PostgreSQL
        // before the agent has decided how to stop it.
        options.processGroupID = 0
        var env: [Environment.Key: String?] = [:]
        for (key, value) in environment { env[Environment.Key(stringLiteral: key)] = value }
        let box = ExitBox()
        let started = AsyncStream<pid_t>.makeStream()
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(env),
            workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: options)
        let runner = Task<String?, Never> {
            defer { started.continuation.finish() }
            do {
                let result = try await Subprocess.run(
                    configuration, input: .none, output: .fileDescriptor(log ?? .standardOutput, closeAfterSpawningProcess: log != nil),
                    error: .fileDescriptor(log ?? .standardError, closeAfterSpawningProcess: false)
                ) { execution in
                    started.continuation.yield(execution.processIdentifier.value)
                }
                // swift-subprocess returns once it has reaped the child (waitid on its pid).
                box.finish(result.terminationStatus)
                return nil
            } catch {
                try? log?.close()
                return "\(error)"
            }
        }
        var iterator = started.stream.makeAsyncIterator()
        guard let pid = await iterator.next() else {
            let reason = await runner.value ?? "unknown reason"
            throw SystemError.start("cannot start \(executable): \(reason)")
        }
        return ChildProcess(pid: pid, logPath: logPath ?? "", box: box)
    }

    /// A process this one did not start (a postmaster a previous agent left running), watched
    /// as a child is. Only a parent is told when a process ends, so its end is polled (every
    /// 100 ms), and how it ended is not known: it is reported as `exited(0)`.
    public static func adopt(pid: pid_t, logPath: String) -> ChildProcess {
        let box = ExitBox()
        Task.detached {
            while !ProcessTable.isGone(pid) { try? await Task.sleep(for: .milliseconds(100)) }
            box.finish(.exited(0))
        }
        return ChildProcess(pid: pid, logPath: logPath, box: box)
    }

    /// How it ended, once it has.
    public var exitStatus: TerminationStatus? { box.status.withLock { $0 } }

    public var isRunning: Bool { exitStatus == nil }

    /// Waits for the exit, however long it takes.
    public func waitForExit() async -> TerminationStatus {
        if let status = exitStatus { return status }
        return await withCheckedContinuation { continuation in
            let ready: TerminationStatus? = box.waiters.withLock { waiters in
                if let status = box.status.withLock({ $0 }) { return status }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The exit status, or nil if still running after `timeout`.
    public func waitForExit(timeout: Duration) async -> TerminationStatus? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return exitStatus
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Signals the process and everything it started in its process group (it leads one).
    public func signalGroup(_ signal: Int32) {
        if isRunning { kill(-pid, signal) }
    }

    /// Sends `signal`, waits up to `grace`, then kills. Returns how it ended.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async -> TerminationStatus? {
        self.signal(signal)
        if let status = await waitForExit(timeout: grace) { return status }
        self.signal(SIGKILL)
        return await waitForExit(timeout: .seconds(5))
    }

    /// The last lines of the log, for error messages.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
