import VigilCore

/// The cluster-wide settings every member shares: `bootstrap.dcs` in the file, written to
/// the store's `config` key when the cluster is initialized, and read from that key after.
public struct DynamicConfig: Sendable {
    public var location: SourceLocation?
    public var ttl: Int?
    public var loopWait: Int?
    public var retryTimeout: Int?
    public var maximumLagOnFailover: Int?
    public var maximumLagOnSyncnode: Int?
    public var maxTimelinesHistory: Int?
    public var primaryStartTimeout: Int?
    public var primaryStopTimeout: Int?
    /// on | off | quorum (true/false read as on/off)
    public var synchronousMode: String?
    public var synchronousModeStrict: Bool?
    public var synchronousNodeCount: Int?
    public var failsafeMode: Bool?
    public var checkTimeline: Bool?
    public var memberSlotsTTL: String?
    public var pause: Bool?
    public var slots: ConfigNode?
    public var ignoreSlots: ConfigNode?
    public var standbyCluster: ConfigNode?
    public var postgresql: DynamicPostgresConfig

    /// As configured, before the timing rule is applied (see `HATimings.effective()`).
    public var timings: HATimings {
        HATimings(ttl: ttl ?? HATimings.defaults.ttl,
                  loopWait: loopWait ?? HATimings.defaults.loopWait,
                  retryTimeout: retryTimeout ?? HATimings.defaults.retryTimeout)
    }

    init(_ s: ConfigSection) {
        location = s.location
        ttl = s.int("ttl")
        loopWait = s.int("loop_wait")
        retryTimeout = s.int("retry_timeout")
        maximumLagOnFailover = s.int("maximum_lag_on_failover")
        maximumLagOnSyncnode = s.int("maximum_lag_on_syncnode")
        maxTimelinesHistory = s.int("max_timelines_history")
        // master_* are the names Patroni 3 and older used; both are read.
        primaryStartTimeout = s.int("primary_start_timeout") ?? s.int("master_start_timeout")
        primaryStopTimeout = s.int("primary_stop_timeout") ?? s.int("master_stop_timeout")
        synchronousMode = s.string("synchronous_mode").map { text in
            ConfigScalar.bool(text).map { $0 ? "on" : "off" } ?? text
        }
        if let mode = synchronousMode, mode != "off" {
            // Running asynchronously where the configuration promises synchronous replication
            // would acknowledge writes that a failover can lose: say so wherever it is read (the
            // file's bootstrap.dcs stops the agent; the store's config key is logged).
            s.reader.report(Diagnostic(
                .error, code: "synchronous-mode", path: s.childPath("synchronous_mode"), location: s.location(of: "synchronous_mode"),
                message: "synchronous_mode \(mode) is not supported by this version of Vigil: the cluster would replicate asynchronously, and a failover could lose writes this setting promises to keep.",
                fix: "remove synchronous_mode (asynchronous replication, as the guide runs), or keep this cluster on Patroni until Vigil supports it."))
        }
        synchronousModeStrict = s.bool("synchronous_mode_strict")
        synchronousNodeCount = s.int("synchronous_node_count")
        failsafeMode = s.bool("failsafe_mode")
        checkTimeline = s.bool("check_timeline")
        memberSlotsTTL = s.string("member_slots_ttl")
        pause = s.bool("pause")
        slots = s.whole("slots") ?? s.whole("permanent_slots") ?? s.whole("permanent_replication_slots")
        ignoreSlots = s.whole("ignore_slots")
        standbyCluster = s.whole("standby_cluster")
        postgresql = DynamicPostgresConfig(s.section("postgresql"))
    }
}

/// `bootstrap.dcs.postgresql` / the `config` key's `postgresql`.
public struct DynamicPostgresConfig: Sendable {
    public var useSlots: Bool?
    public var usePgRewind: Bool?
    public var parameters: [Parameter]
    public var recoveryConf: ConfigNode?
    public var pgHBA: [String]?
    public var pgIdent: [String]?

    init(_ s: ConfigSection) {
        useSlots = s.bool("use_slots")
        usePgRewind = s.bool("use_pg_rewind")
        parameters = [Parameter](s, "parameters")
        recoveryConf = s.whole("recovery_conf")
        pgHBA = s.strings("pg_hba")
        pgIdent = s.strings("pg_ident")
    }
}
