import Foundation
import VigilCore
#if canImport(Glibc)
import Glibc
#endif

/// The fence: a small process of its own (`vigil --fence DATA_DIR`) that the agent starts when
/// its node becomes primary and feeds a deadline after every confirmed renewal of the leader
/// key. When the deadline passes without a newer one, it stops PostgreSQL on the data
/// directory (`FenceStop`). It outlives the agent on purpose: an agent killed with -9, frozen
/// or hung stops feeding it, and that is exactly when it acts. A new agent on the node finds
/// it by the data directory and takes it over.
///
/// One thread, no runtime beyond a poll loop: nothing in it can stall the way an agent can.
/// It accepts connections only from its own user (or root). It ends once it guards nothing
/// (disarmed, or fired) and no agent is connected.
///
/// When the agent asks for one, it also holds the watchdog device (`WatchdogDevice`), kept
/// alive with every arm; it then acts a second before the device would fire, and stops the
/// device once PostgreSQL is gone. A fence that cannot act leaves the device to reset the host.
public enum FenceServer {
    public static func run(dataDirectory: String) -> Int32 {
        let name = FenceWire.socketName(dataDirectory: dataDirectory)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { return fail("cannot create a socket: \(String(cString: strerror(errno)))") }
        let bound = FenceWire.withAddress(name) { bind(listener, $0, $1) }
        guard bound == 0 else {
            // Another fence guards this data directory already: it is the one the agent talks to.
            return fail("another fence already guards \(dataDirectory) (\(String(cString: strerror(errno))))", code: 3)
        }
        guard listen(listener, 8) == 0 else { return fail("cannot listen: \(String(cString: strerror(errno)))") }
        // A signal meant for the agent's terminal or unit must not end the fence.
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        say("guarding PostgreSQL in \(dataDirectory) (pid \(getpid()))")
        var loop = Loop(dataDirectory: dataDirectory, listener: listener)
        loop.run()
        say("nothing left to guard in \(dataDirectory); exiting")
        return 0
    }

    struct Loop {
        let dataDirectory: String
        let listener: Int32
        var state = FenceWire.State.disarmed
        var watchdog: WatchdogDevice?
        /// When the watchdog was last kept alive (CLOCK_MONOTONIC nanoseconds).
        var watchdogFedAt: Int64 = 0
        var watchdogAnswer = FenceWire.WatchdogAnswer.none
        /// The last request that could not be met, and why: not tried again until the agent
        /// asks for something else (opening a real device starts it; no retry every second).
        var refused: (request: FenceWire.WatchdogRequest, why: String)?
        var clients: [Int32: [UInt8]] = [:]
        /// Whether anything connected yet (the agent that started it connects right away).
        var served = false
        let started = FenceWire.monotonicNow()

        mutating func run() {
            while true {
                if let due = deadline, FenceWire.monotonicNow() >= due { fire() }
                if clients.isEmpty, !isArmed, served || FenceWire.monotonicNow() - started > 60_000_000_000 { return }
                var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                    + clients.keys.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds())
                guard ready > 0 else { continue }
                if fds[0].revents & Int16(POLLIN) != 0 { accept() }
                for entry in fds.dropFirst() where entry.revents != 0 { read(entry.fd) }
            }
        }

        var isArmed: Bool { if case .armed = state { true } else { false } }

        /// When PostgreSQL is stopped: the agent's deadline, or a second before a running
        /// watchdog would reset the host, whichever comes first.
        var deadline: Int64? {
            guard case let .armed(deadline) = state else { return nil }
            guard let watchdog else { return deadline }
            return min(deadline, watchdogFedAt + Int64(watchdog.timeout - WatchdogPolicy.fenceLead) * 1_000_000_000)
        }

        /// Until the deadline (rounded up, so it never wakes just before it), or a minute while
        /// disarmed, so that a fence left alone without a client still ends.
        func timeoutMilliseconds() -> Int32 {
            guard let deadline = self.deadline else { return served ? -1 : 60_000 }
            let remaining = deadline - FenceWire.monotonicNow()
            return Int32(clamping: max(0, (remaining + 999_999) / 1_000_000))
        }

        mutating func accept() {
            let client = Glibc.accept(listener, nil, nil)
            guard client >= 0 else { return }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var credentials = PeerCredentials()
            var length = socklen_t(MemoryLayout<PeerCredentials>.size)
            guard getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
                  credentials.uid == getuid() || credentials.uid == 0 else {
                FenceServer.say("refused a connection from uid \(credentials.uid): only the agent's user may steer the fence")
                close(client)
                return
            }
            served = true
            clients[client] = []
        }

        mutating func read(_ client: Int32) {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(client, $0.baseAddress, $0.count) }
            guard count > 0 else {
                close(client)
                clients[client] = nil
                return
            }
            var pending = clients[client, default: []] + buffer[..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let answer = handle(line) + "\n"
                _ = answer.utf8CString.withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count - 1) }
            }
            // A client that sends no newline in 4 KiB is not an agent.
            if pending.count > 4096 {
                close(client)
                clients[client] = nil
                return
            }
            clients[client] = pending
        }

        mutating func handle(_ line: String) -> String {
            let words = line.split(separator: " ")
            switch (words.first, words.count) {
            case ("arm", 2), ("arm", 6...):
                // A deadline is within a day of now (a lease is seconds long): anything else is not an
                // agent's, and would overflow the arithmetic on it.
                let now = FenceWire.monotonicNow()
                guard let deadline = Int64(words[1]), deadline > now - Self.day, deadline < now + Self.day else {
                    return "error: arm needs a deadline in CLOCK_MONOTONIC nanoseconds within a day of now"
                }
                let request = FenceWire.WatchdogRequest(armLine: line)
                if words.count > 2, request == nil { return "error: arm takes watchdog <timeout> <driver> <device>" }
                let was = state
                let fed = feedWatchdog(request)
                if !isArmed {
                    FenceServer.say("armed: PostgreSQL is stopped unless the lease is renewed within \(Self.seconds(deadline - now)) s")
                }
                state = .armed(deadline: deadline)
                // A fence that fired says so once, to the agent that arms it again.
                if case .fenced = was { return was.line + fed.suffix }
                return state.line + fed.suffix
            case ("disarm", 1):
                // A fence that fired says so once more, then guards nothing.
                let was = state
                if isArmed { FenceServer.say("disarmed") }
                state = .disarmed
                stopWatchdog(because: "disarmed")
                if case .fenced = was { return was.line }
                return state.line
            case ("status", 1):
                return state.line + watchdogAnswer.suffix
            default:
                return "error: unknown request '\(line.prefix(40))'"
            }
        }

        mutating func fire() {
            let now = FenceWire.monotonicNow()
            guard let pid = FenceStop.postmaster(of: dataDirectory) else {
                FenceServer.say("deadline passed without a renewal; PostgreSQL in \(dataDirectory) is not running")
                state = .disarmed
                stopWatchdog(because: "nothing left to guard")
                return
            }
            FenceServer.say("deadline passed without a renewal of the leader key: stopping PostgreSQL (pid \(pid)) before the lease ends")
            let gone = FenceStop.stop(pid)
            if gone {
                FenceServer.say("PostgreSQL (pid \(pid)) and its processes are stopped")
                stopWatchdog(because: "PostgreSQL is stopped; the host need not be reset")
            } else {
                FenceServer.say("PostgreSQL (pid \(pid)) did not stop: some of its processes are still there"
                                + (watchdog == nil ? "" : "; the watchdog is left to reset the host"))
            }
            state = .fenced(pid: pid, at: now)
        }

        /// Opens, sets and keeps alive the watchdog an arm asks for (or stops the one an arm no
        /// longer asks for); says how that went, in the log when it changed.
        mutating func feedWatchdog(_ request: FenceWire.WatchdogRequest?) -> FenceWire.WatchdogAnswer {
            let before = watchdogAnswer
            guard let request else {
                stopWatchdog(because: "no longer asked for")
                watchdogAnswer = .none
                return .none
            }
            if let open = watchdog, open.path != request.device || open.driver.rawValue != request.driver {
                stopWatchdog(because: "another device is asked for")
            }
            if watchdog == nil, let refused, refused.request == request {
                watchdogAnswer = .failed(refused.why)
                return watchdogAnswer
            }
            let answer: FenceWire.WatchdogAnswer
            do {
                if watchdog == nil { watchdog = try WatchdogDevice.open(request.device, driver: request.driver) }
                if watchdog!.timeout != request.timeout { try watchdog!.setTimeout(request.timeout) }
                try watchdog!.keepalive()
                watchdogFedAt = FenceWire.monotonicNow()
                answer = .running(timeout: watchdog!.timeout)
                refused = nil
            } catch {
                stopWatchdog(because: nil)
                answer = .failed(error.description)
                refused = (request, error.description)
            }
            if answer != before {
                switch answer {
                case let .running(timeout):
                    FenceServer.say("\(watchdog!.identity) (\(request.device)) runs with a \(timeout) s timeout"
                                    + (watchdog!.canStop ? "" : "; it cannot be stopped once started (no magic close): the host will be reset \(timeout) s after this node stops leading"))
                case let .failed(why):
                    FenceServer.say("no watchdog: \(why)")
                case .none:
                    break
                }
            }
            watchdogAnswer = answer
            return answer
        }

        /// The magic close: the device stops without resetting the host.
        mutating func stopWatchdog(because reason: String?) {
            watchdogAnswer = .none
            guard let device = watchdog else { return }
            device.close()
            watchdog = nil
            guard let reason else { return }
            if device.canStop {
                FenceServer.say("watchdog \(device.path) stopped: \(reason)")
            } else {
                FenceServer.say("watchdog \(device.path) cannot be stopped (\(reason)): the host is reset in \(device.timeout) s")
            }
        }

        static let day: Int64 = 86_400_000_000_000

        static func seconds(_ nanoseconds: Int64) -> String {
            String(format: "%.1f", Double(nanoseconds) / 1e9)
        }
    }

    /// Linux's `struct ucred`, as SO_PEERCRED fills it.
    struct PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
    }

    static func say(_ text: String) {
        FileHandle.standardError.write(Data("vigil fence: \(text)\n".utf8))
    }

    static func fail(_ text: String, code: Int32 = 1) -> Int32 {
        say(text)
        return code
    }
}
