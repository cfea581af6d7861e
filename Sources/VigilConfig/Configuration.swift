/// A node's whole configuration, read from a `patroni.yml` (unchanged) plus environment
/// overrides. Optional fields are optional in the file; the validator reports those that
/// a node cannot run without. `tree` keeps the merged document, unknown keys included.
public struct Configuration: Sendable {
    public var scope: String?
    public var name: String?
    /// The store prefix; Patroni's default is `/service/`.
    public var namespace: String
    public var restAPI: RestAPIConfig
    public var ctl: CtlConfig
    /// The first DCS section found; `dcsSections` lists every one the file has.
    public var dcs: DCSConfig?
    public var dcsSections: [DCSConfig]
    public var bootstrap: BootstrapConfig
    /// Whether the file has a `bootstrap:` section at all (a node without one can still join).
    public var hasBootstrapSection: Bool
    public var postgresql: PostgresConfig
    public var watchdog: WatchdogConfig
    public var tags: Tags
    /// Logging and Citus settings are kept as written; Vigil reads only `log.level` so far.
    public var log: ConfigNode?
    public var citus: ConfigNode?
    public var tree: ConfigNode

    /// Reads a merged document into typed sections. Wrong shapes and unknown keys come back
    /// as diagnostics; reading never fails.
    public static func read(_ tree: ConfigNode) -> (Configuration, [Diagnostic]) {
        let reader = ConfigReader(root: tree)
        let configuration = Configuration(reader.top, tree: tree)
        return (configuration, reader.diagnostics + reader.unknownKeys())
    }

    private init(_ s: ConfigSection, tree: ConfigNode) {
        self.tree = tree
        scope = s.string("scope")
        name = s.string("name")
        namespace = s.string("namespace") ?? "/service/"
        restAPI = RestAPIConfig(s.section("restapi"))
        ctl = CtlConfig(s.section("ctl"))
        var sections: [DCSConfig] = []
        for name in DCSConfig.sectionNames {
            let kind: DCSConfig.Kind = switch name {
            case "etcd3": .etcd3
            case "etcd": .etcdV2Section
            default: .unsupported(name)
            }
            if case .unsupported = kind {
                // Another store's keys are not Vigil's to judge: taken whole, reported once.
                guard s.whole(name) != nil else { continue }
            } else if !s.section(name).exists {
                continue
            }
            var store = DCSConfig(kind: kind, s.section(name))
            store.location = s.location(of: name)
            sections.append(store)
        }
        dcsSections = sections
        dcs = sections.first
        hasBootstrapSection = s.section("bootstrap").exists
        bootstrap = BootstrapConfig(s.section("bootstrap"))
        postgresql = PostgresConfig(s.section("postgresql"))
        watchdog = WatchdogConfig(s.section("watchdog"))
        tags = Tags(s.section("tags"))
        log = s.whole("log")
        citus = s.whole("citus")
        // Python interpreter settings; meaningless for a native binary, accepted silently.
        _ = s.int("thread_pool_size")
        _ = s.string("thread_stack_size")
    }
}
