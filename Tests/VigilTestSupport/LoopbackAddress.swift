import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Free addresses for test servers. Each server gets its own random 127.x.y.z (every
/// address in 127/8 is local on Linux), so tests running in parallel, or in two checkouts
/// at once, do not collide; the port is then checked free by binding it.
/// 127.0.x.x is left alone: the lab uses 127.0.50.x.
public enum LoopbackAddress {
    public static func random() -> String {
        "127.\(Int.random(in: 100...199)).\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
    }

    /// A host and a port on it that nothing listens on right now.
    public static func freeEndpoint(preferredPort: Int? = nil) throws -> (host: String, port: Int) {
        for _ in 0..<50 {
            let host = random()
            let port = preferredPort ?? Int.random(in: 20000...60000)
            if isFree(host: host, port: port) { return (host, port) }
        }
        throw HarnessError("no free loopback address/port found after 50 tries")
    }

    /// Whether a TCP listener could bind host:port.
    public static func isFree(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
