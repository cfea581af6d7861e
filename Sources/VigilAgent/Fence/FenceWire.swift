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
