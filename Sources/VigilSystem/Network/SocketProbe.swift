#if canImport(Glibc)
import Glibc
#endif

/// Questions about IPv4 TCP addresses answered with one socket call each.
public enum SocketProbe {
    /// Whether a port can still be listened on, checked before PostgreSQL or the REST API is
    /// started so a taken port is reported as such rather than as a crashed server.
    public static func isFree(host: String, port: Int) -> Bool {
        let wildcard = ["*", "0.0.0.0", ""].contains(host)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        // As PostgreSQL does: connections lingering in TIME_WAIT do not block a new listener.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        if wildcard {
            address.sin_addr.s_addr = INADDR_ANY
        } else if inet_pton(AF_INET, host, &address.sin_addr) != 1 {
            return true  // a name or IPv6 address: leave the verdict to PostgreSQL
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Whether something accepts TCP connections on host:port (a blocking connect: for
    /// loopback addresses, which answer at once).
    public static func accepts(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
