import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the fence listens and what it is told: one line per request, one line per answer.
///
///     arm <deadline>   → armed <deadline>       stop PostgreSQL if no later deadline comes by then
///     disarm           → disarmed
///     status           → armed <deadline> | disarmed | fenced <pid> <when>
///
/// An arm may also ask for a watchdog device, kept alive by every arm that asks for it and
/// stopped by one that does not (or a disarm); its answer then says how that went:
///
///     arm <deadline> watchdog <timeout> <driver> <device>
///         → armed <deadline>; watchdog <timeout>  |  armed <deadline>; nowatchdog <why>
///
/// Deadlines are CLOCK_MONOTONIC nanoseconds: one clock for every process on the host, which
/// no change of the wall clock moves.
public enum FenceWire {
    /// A Unix socket in the abstract namespace, named for the data directory: no file to leave
    /// behind or to trip up a backup of the data directory, and one fence per data directory.
    static func socketName(dataDirectory: String) -> [UInt8] {
        let name = "vigil-fence:" + dataDirectory
        var bytes = [UInt8(0)] + Array(name.utf8)
        // sun_path holds 108 bytes: a long path is shortened to its hash.
        if bytes.count > 100 {
            bytes = [0] + Array("vigil-fence:#\(String(stableHash(dataDirectory), radix: 16))".utf8)
        }
        return bytes
    }

    /// FNV-1a: the same name in every process, unlike Swift's seeded `hashValue`.
    static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(UInt64(0xcbf29ce484222325)) { ($0 ^ UInt64($1)) &* 0x100000001b3 }
    }

    /// Runs `body` with the socket address for `name`.
    static func withAddress<T>(_ name: [UInt8], _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in name.enumerated() where i < raw.count { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Now on CLOCK_MONOTONIC, in nanoseconds.
    static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// A watchdog device the fence is to keep alive: its timeout in seconds for this lease, the
    /// driver (`default` or `testing`) and the device's path.
    public struct WatchdogRequest: Sendable, Equatable {
        public var timeout: Int
        public var driver: String
        public var device: String

        public init(timeout: Int, driver: String, device: String) {
            self.timeout = timeout
            self.driver = driver
            self.device = device
        }

        var words: String { "watchdog \(timeout) \(driver) \(device)" }

        /// From an arm request: `arm <deadline> watchdog <timeout> <driver> <device>` (the
        /// device is the rest of the line, spaces and all). Nil for a plain `arm <deadline>`.
        init?(armLine line: String) {
            let words = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
            guard words.count == 6, words[2] == "watchdog", let timeout = Int(words[3]), !words[5].isEmpty else { return nil }
            self.init(timeout: timeout, driver: String(words[4]), device: String(words[5]))
        }
    }

    /// How a watchdog the arm asked for is doing.
    public enum WatchdogAnswer: Sendable, Equatable {
        /// None was asked for (none runs).
        case none
        /// It runs with this timeout (seconds) and was just kept alive.
        case running(timeout: Int)
        /// It could not be started or kept alive: why.
        case failed(String)

        var suffix: String {
            switch self {
            case .none: ""
            case let .running(timeout): "; watchdog \(timeout)"
            case let .failed(why): "; nowatchdog \(why)"
            }
        }

        init?(suffix: Substring) {
            if suffix.hasPrefix("watchdog "), let timeout = Int(suffix.dropFirst("watchdog ".count)) {
                self = .running(timeout: timeout)
            } else if suffix.hasPrefix("nowatchdog ") {
                self = .failed(String(suffix.dropFirst("nowatchdog ".count)))
            } else {
                return nil
            }
        }

        /// Splits an answer into the fence's state line and what it says of the watchdog.
        static func split(_ answer: String) -> (state: Substring, watchdog: WatchdogAnswer)? {
            guard let separator = answer.range(of: "; ") else { return (Substring(answer), .none) }
            guard let watchdog = WatchdogAnswer(suffix: answer[separator.upperBound...]) else { return nil }
            return (answer[..<separator.lowerBound], watchdog)
        }
    }

    /// Where the fence stands, as `status` answers it.
    public enum State: Sendable, Equatable {
        case disarmed
        case armed(deadline: Int64)
        case fenced(pid: Int32, at: Int64)

        var line: String {
            switch self {
            case .disarmed: "disarmed"
            case let .armed(deadline): "armed \(deadline)"
            case let .fenced(pid, at): "fenced \(pid) \(at)"
            }
        }

        init?(line: Substring) {
            let words = line.split(separator: " ")
            switch (words.first, words.count) {
            case ("disarmed", 1): self = .disarmed
            case ("armed", 2):
                guard let deadline = Int64(words[1]) else { return nil }
                self = .armed(deadline: deadline)
            case ("fenced", 3):
                guard let pid = Int32(words[1]), let at = Int64(words[2]) else { return nil }
                self = .fenced(pid: pid, at: at)
            default: return nil
            }
        }
    }
}
