import Foundation
import VigilPostgres
import VigilSystem

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

    /// Whether a TCP listener could bind host:port (the check PostgresInstance makes before starting).
    public static func isFree(host: String, port: Int) -> Bool {
        SocketProbe.isFree(host: host, port: port)
    }
}
