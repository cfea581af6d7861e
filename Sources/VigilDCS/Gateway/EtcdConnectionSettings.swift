import NIOSSL
import VigilCore
import VigilSystem

/// How to reach etcd: endpoint URLs, credentials and TLS files, derived the way Patroni
/// derives them from an `etcd3:` section (`proxy` first, then `hosts`/`host`, then `url`;
/// default port 2379; https when asked for or when certificates are given).
public struct EtcdConnectionSettings: Sendable, CustomStringConvertible {
    public var endpoints: [String]
    public var username: String?
    /// Kept out of `description`; sent only in the authentication request.
    public var password: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Whether to add the cluster's own member list to `endpoints` (not through a proxy).
    public var discoverMembers: Bool

    public init(hosts: [String], url: String? = nil, proxy: String? = nil, protocol scheme: String = "http",
                useProxies: Bool = false, username: String? = nil, password: String? = nil,
                caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        let scheme = scheme == "https" || caFile != nil || certFile != nil ? "https" : "http"
        var urls: [String]
        if let proxy {
            urls = [proxy]
        } else {
            urls = hosts.map { host in
                if host.contains("://") { return host }
                return HostPort(host) != nil ? "\(scheme)://\(host)" : "\(scheme)://\(host):2379"
            }
            if urls.isEmpty, let url { urls = [url] }
        }
        if urls.isEmpty { urls = ["\(scheme)://127.0.0.1:2379"] }
        endpoints = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.username = username
        self.password = password
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        discoverMembers = proxy == nil && !useProxies
    }

    public var description: String {
        "etcd \(endpoints.joined(separator: ","))" + (username.map { " as \($0)" } ?? "")
    }

    /// The client TLS setup, or nil for plain http.
    func tlsConfiguration() throws(StoreError) -> TLSConfiguration? {
        guard endpoints.contains(where: { $0.hasPrefix("https://") }) else { return nil }
        do {
            return try TLSFiles.client(cafile: caFile, certfile: certFile, keyfile: keyFile, password: nil, insecure: false,
                                       section: "etcd3", cafileKey: "cacert", certfileKey: "cert", keyfileKey: "key")
                ?? TLSConfiguration.makeClientConfiguration()
        } catch {
            throw StoreError(.rejected, error.description)
        }
    }
}
