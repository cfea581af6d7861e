/// An address as written in `listen` / `connect_address`: `host:port`, `[v6]:port`, or
/// Patroni's `h1,h2:port` for several listen addresses.
public struct HostPort: Sendable, Equatable {
    public var hosts: [String]
    public var port: Int

    public init(hosts: [String], port: Int) {
        self.hosts = hosts
        self.port = port
    }

    /// nil when there is no `:port` or the port is not a number from 1 to 65535.
    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        let hostPart = text[..<colon]
        hosts = hostPart.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        }
        self.port = port
        if hosts.isEmpty || hosts.contains(where: \.isEmpty) { return nil }
    }

    public var host: String { hosts[0] }

    /// `host:port` for a URL or HAProxy's configuration: an IPv6 host in brackets.
    public var authority: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

import Foundation
