import Foundation
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of the fence: one connection to the fence of its data directory, started
/// when the first deadline is to be armed (a replica never needs one).
public protocol Fencing: Sendable {
    /// Arm (or move) the deadline to `remaining` from now, keeping `watchdog` alive (none: stop
    /// one that runs); answers `fenced` when the fence fired since it was last told anything,
    /// else its state, and how the watchdog is doing.
    func arm(remaining: Duration, watchdog: FenceWire.WatchdogRequest?) async throws(FenceError)
        -> (state: FenceWire.State, watchdog: FenceWire.WatchdogAnswer)
    /// Disarm; answers what the fence had done (`fenced` when it fired since).
    func disarm() async throws(FenceError) -> FenceWire.State
    /// What the fence says now; nil when none runs for this data directory.
    func status() async -> FenceWire.State?
}

public struct FenceError: Error, CustomStringConvertible {
    public let description: String
}

/// No fence (tests of the loop that need none; the simulation runs its own, SimFence).
public struct NoFence: Fencing {
    public init() {}
    public func arm(remaining: Duration, watchdog: FenceWire.WatchdogRequest?) async throws(FenceError)
        -> (state: FenceWire.State, watchdog: FenceWire.WatchdogAnswer) {
        (.armed(deadline: 0), .none)
    }
    public func disarm() async throws(FenceError) -> FenceWire.State { .disarmed }
    public func status() async -> FenceWire.State? { nil }
}

public actor FenceClient: Fencing {
    let dataDirectory: String
    let executable: String
    private var connection: Int32?

    /// - Parameter executable: the `vigil` binary that runs `--fence` (this agent's own).
    public init(dataDirectory: String, executable: String = FenceClient.ownExecutable()) {
        self.dataDirectory = dataDirectory
        self.executable = executable
    }

    /// This process's binary, so the fence is always the agent's own version.
    public static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public func arm(remaining: Duration, watchdog: FenceWire.WatchdogRequest?) async throws(FenceError)
        -> (state: FenceWire.State, watchdog: FenceWire.WatchdogAnswer) {
        let deadline = FenceWire.monotonicNow().addingReportingOverflow(remaining.inNanoseconds).partialValue
        if connection == nil { try await connectStartingTheFence() }
        guard let watchdog else { return try answer("arm \(deadline)") }
        do throws(FenceError) {
            return try answer("arm \(deadline) " + watchdog.words)
        } catch let error where error.description.contains("'error: ") {
            // A fence started by an older vigil (still guarding across an upgrade) knows no
            // watchdog: it is armed all the same, and says so.
            let state = try answer("arm \(deadline)").state
            return (state, .failed("the fence running for \(dataDirectory) was started by an older vigil and holds no watchdog"))
        }
    }

    public func disarm() async throws(FenceError) -> FenceWire.State {
        // Nothing to disarm where no fence runs.
        if connection == nil, (try? connect()) == nil { return .disarmed }
        return try answer("disarm").state
    }

    /// What the fence says right now; nil when none runs for this data directory.
    public func status() -> FenceWire.State? {
        if connection == nil, (try? connect()) == nil { return nil }
        return try? answer("status").state
    }

    private func connectStartingTheFence() async throws(FenceError) {
        if (try? connect()) != nil { return }
        do {
            _ = try await ChildProcess.spawn(executable, ["--fence", dataDirectory], logPath: nil)
        } catch {
            throw FenceError(description: "cannot start the fence (\(executable) --fence): \(error)")
        }
        // It listens within milliseconds; a second is plenty on a loaded host.
        let deadline = ContinuousClock.now + .seconds(1)
        while true {
            do { return try connect() } catch {
                if ContinuousClock.now >= deadline { throw error }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func connect() throws(FenceError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FenceError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        let connected = FenceWire.withAddress(FenceWire.socketName(dataDirectory: dataDirectory)) { Glibc.connect(fd, $0, $1) }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FenceError(description: "no fence answers for \(dataDirectory): \(reason)")
        }
        // The fence answers at once; a second without an answer means it is gone or stuck.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        connection = fd
    }

    private func answer(_ line: String) throws(FenceError) -> (state: FenceWire.State, watchdog: FenceWire.WatchdogAnswer) {
        guard let fd = connection else { throw FenceError(description: "not connected to the fence") }
        let bytes = Array((line + "\n").utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        if sent == bytes.count {
            var buffer = [UInt8](repeating: 0, count: 256)
            while !answer.contains(UInt8(ascii: "\n")) {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                answer += buffer[..<count]
            }
        }
        guard let newline = answer.firstIndex(of: UInt8(ascii: "\n")) else {
            close(fd)
            connection = nil
            throw FenceError(description: "the fence for \(dataDirectory) did not answer '\(line.split(separator: " ")[0])'")
        }
        let text = String(decoding: answer[..<newline], as: UTF8.self)
        guard let parts = FenceWire.WatchdogAnswer.split(text), let state = FenceWire.State(line: parts.state) else {
            throw FenceError(description: "the fence answered '\(text.prefix(80))'")
        }
        return (state, parts.watchdog)
    }
}
