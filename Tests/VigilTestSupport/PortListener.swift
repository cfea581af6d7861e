import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket held by the test process, to stand in the way of a server that
/// wants the same address (the "port already taken" cases).
public struct PortListener: Sendable {
    public let fd: Int32

    public init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let fd = self.fd
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 4) == 0 else {
            if fd >= 0 { Glibc.close(fd) }
            throw HarnessError("cannot listen on \(host):\(port)")
        }
    }

    public func close() { _ = Glibc.close(fd) }
}
