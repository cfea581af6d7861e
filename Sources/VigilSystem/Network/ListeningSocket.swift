import Foundation

/// Which process listens on a TCP address, read from /proc (no `ss` or `lsof` needed), so
/// `lab up` can name what holds a port it needs.
public enum ListeningSocket {
    public struct Owner: Sendable {
        public var pid: Int32
        public var command: String
    }

    /// The process listening on host:port, directly or on the wildcard address; nil when none
    /// is found (or it belongs to another user's namespace).
    public static func owner(host: String, port: Int) -> Owner? {
        guard let inode = listeningInode(host: host, port: port) else { return nil }
        let target = "socket:[\(inode)]"
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry) else { continue }
            let fds = (try? fm.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds where (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == target {
                return Owner(pid: pid, command: ProcessTable.commandLine(pid))
            }
        }
        return nil
    }

    /// The socket inode of a listener on host:port, 0.0.0.0:port or [::]:port (a dual-stack
    /// listener holds the IPv4 port too), from /proc/net/tcp and tcp6, where addresses are
    /// little-endian hex (`0100007F:1F90` is 127.0.0.1:8080) and state 0A is LISTEN.
    static func listeningInode(host: String, port: Int) -> String? {
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        let portHex = String(format: ":%04X", port)
        let wanted = [
            "/proc/net/tcp": [octets.reversed().map { String(format: "%02X", $0) }.joined() + portHex, "00000000" + portHex],
            "/proc/net/tcp6": [String(repeating: "0", count: 32) + portHex],
        ]
        for (file, addresses) in wanted {
            guard let table = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A", addresses.contains(String(fields[1])) else { continue }
                return String(fields[9])
            }
        }
        return nil
    }
}
