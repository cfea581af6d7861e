/// The coordination store section: `etcd3:` (or the guide's `etcd:`).
///
/// Vigil always speaks etcd's v3 API. A file with an `etcd:` section (which selects the v2
/// API in Patroni, disabled by default since etcd 3.4 and removed in 3.6) is read with the
/// same hosts and spoken to over v3; the validator says so, because Patroni would fail there.
public struct DCSConfig: Sendable {
    public enum Kind: Sendable, Equatable {
        case etcd3
        /// The file said `etcd:`.
        case etcdV2Section
        /// consul, zookeeper, exhibitor, kubernetes or raft: valid for Patroni, not for Vigil.
        case unsupported(String)

        public var sectionName: String {
            switch self {
            case .etcd3: "etcd3"
            case .etcdV2Section: "etcd"
            case let .unsupported(name): name
            }
        }
    }

    public static let sectionNames = ["etcd3", "etcd", "consul", "zookeeper", "exhibitor", "kubernetes", "raft"]

    public var kind: Kind
    public var location: SourceLocation?
    public var hosts: [String]
    public var url: String?
    public var proxy: String?
    public var srv: String?
    public var srvSuffix: String?
    /// http | https
    public var `protocol`: String
    public var username: String?
    public var password: Secret?
    public var cacert: String?
    public var cert: String?
    public var key: String?
    public var certPassword: Secret?
    public var useProxies: Bool

    init(kind: Kind, _ s: ConfigSection) {
        self.kind = kind
        location = s.location
        guard case .unsupported = kind else {
            var hosts = s.strings("hosts") ?? []
            if let host = s.string("host") { hosts.insert(host, at: 0) }
            if let port = s.int("port"), hosts.isEmpty { hosts = ["127.0.0.1:\(port)"] }
            self.hosts = hosts
            url = s.string("url")
            proxy = s.string("proxy")
            srv = s.string("srv")
            srvSuffix = s.string("srv_suffix")
            `protocol` = s.string("protocol") ?? "http"
            username = s.string("username")
            password = s.string("password").map(Secret.init)
            cacert = s.string("cacert")
            cert = s.string("cert")
            key = s.string("key")
            certPassword = s.string("cert_password").map(Secret.init)
            useProxies = s.bool("use_proxies") ?? false
            // Patroni's per-DCS retry_timeout/ttl are dynamic settings; read to stay known.
            _ = s.int("retry_timeout")
            _ = s.int("ttl")
            return
        }
        hosts = []
        `protocol` = "http"
        useProxies = false
    }
}
