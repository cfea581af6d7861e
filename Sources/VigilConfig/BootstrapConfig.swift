/// `bootstrap:` — used once, by the member that initializes a new cluster.
public struct BootstrapConfig: Sendable {
    /// An `initdb` option: a flag (`data-checksums`) or a key and value (`encoding: UTF8`).
    public enum InitdbOption: Sendable, Equatable {
        case flag(String)
        case value(String, String)

        /// As an initdb command-line argument.
        public var argument: String {
            switch self {
            case let .flag(name): "--\(name)"
            case let .value(name, value): "--\(name)=\(value)"
            }
        }
    }

    /// A role to create at bootstrap (`bootstrap.users`; Patroni 4 dropped this, Vigil keeps it).
    public struct User: Sendable {
        public var name: String
        public var password: Secret?
        /// Role options such as `createdb` or `replication`.
        public var options: [String]
        public var location: SourceLocation?
    }

    public var location: SourceLocation?
    public var dcs: DynamicConfig
    /// `bootstrap.dcs` as written, for the store's `config` key at initialization.
    public var dcsNode: ConfigNode?
    /// `initdb` or the name of a custom method section.
    public var method: String
    public var initdb: [InitdbOption]
    public var pgHBA: [String]?
    public var users: [User]
    public var postBootstrap: String?
    public var customMethod: ConfigNode?

    init(_ s: ConfigSection) {
        location = s.location
        dcs = DynamicConfig(s.section("dcs"))
        dcsNode = s.node("dcs")
        method = s.string("method") ?? "initdb"
        initdb = Self.initdbOptions(s)
        pgHBA = s.strings("pg_hba")
        users = s.namedSections("users").map { name, user in
            User(name: name, password: user.string("password").map(Secret.init),
                 options: user.strings("options") ?? [], location: user.location)
        }
        postBootstrap = s.string("post_bootstrap") ?? s.string("post_init")
        customMethod = method == "initdb" ? nil : s.whole(method)
    }

    /// Patroni accepts a list of flags and one-key mappings, or a single mapping.
    private static func initdbOptions(_ s: ConfigSection) -> [InitdbOption] {
        guard let node = s.whole("initdb") else { return [] }
        func options(from item: ConfigNode) -> [InitdbOption] {
            if let text = item.text { return [.flag(text)] }
            return (item.entries ?? []).map { .value($0.key, $0.value.text ?? "") }
        }
        switch node.value {
        case let .sequence(items): return items.flatMap(options(from:))
        case .mapping: return options(from: node)
        case let .scalar(text, _): return [.flag(text)]
        case .null: return []
        }
    }
}
