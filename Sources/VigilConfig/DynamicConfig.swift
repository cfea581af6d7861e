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
    public var synchronousMode: SyncSettings.Mode?
    public var synchronousModeStrict: Bool?
    public var synchronousNodeCount: Int?
    public var failsafeMode: Bool?
    public var checkTimeline: Bool?
    /// Seconds (the key may carry a unit: "30min").
    public var memberSlotsTTL: Int?
    public var pause: Bool?
    /// Permanent slots (`slots`, or its older names).
    public var slots: [PermanentSlot]?
    public var ignoreSlots: [SlotMatcher]?
    public var standbyCluster: ConfigNode?
    public var postgresql: DynamicPostgresConfig

    /// As configured, before the timing rule is applied (see `HATimings.effective()`).
    public var timings: HATimings {
        HATimings(ttl: ttl ?? HATimings.defaults.ttl,
                  loopWait: loopWait ?? HATimings.defaults.loopWait,
                  retryTimeout: retryTimeout ?? HATimings.defaults.retryTimeout)
    }

    /// The longest time setting read, a year: no one waits longer on purpose, and every
    /// deadline and lease computed from it stays far inside what a clock or etcd can hold.
    public static let seconds = 0...31_536_000
    /// WAL distances in bytes: far beyond any real lag, with room to add two of them.
    public static let walBytes = 0...(1 << 60)

    /// - Parameter lastGood: the settings in force. A key that is present but unusable (wrong
    ///   type, out of range) keeps its value from there instead of falling back to the
    ///   default: a typo in `pause` must not resume a paused cluster.
    init(_ s: ConfigSection, lastGood: DynamicConfig? = nil) {
        func kept<T>(_ key: String, _ value: T?, _ previous: KeyPath<DynamicConfig, T?>) -> T? {
            if let value { return value }
            return s.isSet(key) ? lastGood?[keyPath: previous] : nil
        }
        location = s.location
        ttl = kept("ttl", s.int("ttl", in: Self.seconds), \.ttl)
        loopWait = kept("loop_wait", s.int("loop_wait", in: Self.seconds), \.loopWait)
        retryTimeout = kept("retry_timeout", s.int("retry_timeout", in: Self.seconds), \.retryTimeout)
        maximumLagOnFailover = kept("maximum_lag_on_failover", s.int("maximum_lag_on_failover", in: Self.walBytes),
                                    \.maximumLagOnFailover)
        // -1 (Patroni's default) means no limit.
        maximumLagOnSyncnode = kept("maximum_lag_on_syncnode",
                                    s.int("maximum_lag_on_syncnode", in: -1...Self.walBytes.upperBound), \.maximumLagOnSyncnode)
        maxTimelinesHistory = kept("max_timelines_history", s.int("max_timelines_history", in: 0...1_000_000),
                                   \.maxTimelinesHistory)
        // master_* are the names Patroni 3 and older used; both are read.
        primaryStartTimeout = kept("primary_start_timeout", s.int("primary_start_timeout", in: Self.seconds), \.primaryStartTimeout)
            ?? s.int("master_start_timeout", in: Self.seconds)
        primaryStopTimeout = kept("primary_stop_timeout", s.int("primary_stop_timeout", in: Self.seconds), \.primaryStopTimeout)
            ?? s.int("master_stop_timeout", in: Self.seconds)
        synchronousMode = kept("synchronous_mode", Self.syncMode(s), \.synchronousMode)
        synchronousModeStrict = kept("synchronous_mode_strict", s.bool("synchronous_mode_strict"), \.synchronousModeStrict)
        synchronousNodeCount = kept("synchronous_node_count", s.int("synchronous_node_count", in: 1...10_000),
                                    \.synchronousNodeCount)
        failsafeMode = kept("failsafe_mode", s.bool("failsafe_mode"), \.failsafeMode)
        checkTimeline = kept("check_timeline", s.bool("check_timeline"), \.checkTimeline)
        memberSlotsTTL = kept("member_slots_ttl", s.seconds("member_slots_ttl", in: Self.seconds), \.memberSlotsTTL)
        pause = kept("pause", s.bool("pause"), \.pause)
        slots = s.permanentSlots("slots") ?? s.permanentSlots("permanent_slots") ?? s.permanentSlots("permanent_replication_slots")
        ignoreSlots = s.slotMatchers("ignore_slots")
        standbyCluster = s.whole("standby_cluster")
        postgresql = DynamicPostgresConfig(s.section("postgresql"), lastGood: lastGood?.postgresql)
    }

    /// true/on/yes → on; false/off/no → off; "quorum" in any case. Anything else is an error
    /// naming the key (nil: the mode in force is kept, a typo must not turn it off).
    static func syncMode(_ s: ConfigSection) -> SyncSettings.Mode? {
        guard let text = s.string("synchronous_mode") else { return nil }
        if let flag = ConfigScalar.bool(text) { return flag ? .priority : .off }
        if text.lowercased() == "quorum" { return .quorum }
        s.reader.report(Diagnostic(
            .error, code: "wrong-type", path: s.childPath("synchronous_mode"), location: s.location(of: "synchronous_mode"),
            message: "synchronous_mode is \(text), which is none of on, off or quorum.",
            fix: "set synchronous_mode to on (priority), quorum, or off."))
        return nil
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

    init(_ s: ConfigSection, lastGood: DynamicPostgresConfig? = nil) {
        useSlots = s.bool("use_slots") ?? (s.isSet("use_slots") ? lastGood?.useSlots : nil)
        usePgRewind = s.bool("use_pg_rewind") ?? (s.isSet("use_pg_rewind") ? lastGood?.usePgRewind : nil)
        parameters = [Parameter](s, "parameters")
        recoveryConf = s.whole("recovery_conf")
        pgHBA = s.strings("pg_hba")
        pgIdent = s.strings("pg_ident")
    }
}
