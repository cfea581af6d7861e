/// A member's `conn_url` (`postgres://host:port/postgres`), as Patroni writes and reads it.
public enum ConnectionURL {
    public static func make(_ address: HostPort, database: String = "postgres") -> String {
        "postgres://\(address.authority)/\(database)"
    }

    /// Host and port of a `postgres://` or `postgresql://` URL (default port 5432).
    public static func hostPort(_ url: String) -> HostPort? {
        guard let scheme = url.range(of: "://") else { return nil }
        var rest = url[scheme.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            let port = after.hasPrefix(":") ? Int(after.dropFirst()) ?? 5432 : 5432
            return HostPort(hosts: [host], port: port)
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]) else { return nil }
            return HostPort(hosts: [String(rest[..<colon])], port: port)
        }
        return rest.isEmpty ? nil : HostPort(hosts: [String(rest)], port: 5432)
    }
}
