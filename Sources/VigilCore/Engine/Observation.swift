/// Everything the HA engine may look at for one decision. The shell gathers it (store,
/// PostgreSQL, peers, clock); the engine never reads anything else.
public struct Observation: Sendable, Equatable {
    /// Monotonic time (e.g. since the agent started). Only differences matter.
    public var now: Duration
    /// Wall-clock seconds since 1970, for scheduled switchovers only.
    public var wallClock: Double
    public var me: MemberIdentity
    public var settings: EngineSettings
    public var store: StoreView
    public var postgres: LocalPostgres
    /// What the shell knows about this member's hold on the leader key.
    public var lock: LockState
    /// Peers' answers to `GET /patroni`, collected only when the engine asked (`.probePeers`).
    public var peers: [PeerStatus]?

    public init(now: Duration, wallClock: Double = 0, me: MemberIdentity, settings: EngineSettings, store: StoreView,
                postgres: LocalPostgres, lock: LockState = LockState(), peers: [PeerStatus]? = nil) {
        self.now = now
        self.wallClock = wallClock
        self.me = me
        self.settings = settings
        self.store = store
        self.postgres = postgres
        self.lock = lock
        self.peers = peers
    }
}

/// Who this member is.
public struct MemberIdentity: Sendable, Equatable {
    public var name: String
    public var nofailover: Bool
    /// Higher wins a race between equally advanced replicas; ≤ 0 never races.
    public var failoverPriority: Int64
    /// Whether the local configuration has a `bootstrap` section (only then may it initialize a cluster).
    public var canBootstrap: Bool
    /// Whether it may be a synchronous standby (no `nosync`, `sync_priority` above 0).
    public var allowsSync: Bool
    /// The watchdog is required and cannot be used (HAMachine.watchdogUnusable): this member
    /// never races, and says so to its peers (Patroni's `watchdog_failed`).
    public var watchdogFailed = false

    public init(name: String, nofailover: Bool = false, failoverPriority: Int64 = 1, canBootstrap: Bool = true,
                allowsSync: Bool = true) {
        self.name = name
        self.nofailover = nofailover
        self.failoverPriority = failoverPriority
        self.canBootstrap = canBootstrap
        self.allowsSync = allowsSync
    }

    /// Whether this member may ever become primary on its own.
    public var mayRace: Bool { !nofailover && failoverPriority > 0 && !watchdogFailed }
}

/// The cluster-wide settings in force (the store's `config` key, or `bootstrap.dcs`).
public struct EngineSettings: Sendable, Equatable {
    /// Effective timings (after `HATimings.effective()`).
    public var timings: HATimings
    public var maximumLagOnFailover: Int64
    /// How long a crashed primary may take to restart in place before the lock is given up.
    public var primaryStartTimeout: Duration
    public var checkTimeline: Bool
    public var paused: Bool
    /// Synchronous replication (`synchronous_mode` and its companions).
    public var sync: SyncSettings
    /// `primary_stop_timeout` as configured (nil: unset, or 0 and below, which Patroni reads as
    /// unset). It bounds a primary's stop only in synchronous mode: see `primaryStopBudget`.
    public var primaryStopTimeout: Duration?
    /// The local `watchdog` section (each node's own, as in Patroni).
    public var watchdog: WatchdogPolicy = .off
    /// Whether the local PostgreSQL may be rewound (`postgresql.use_pg_rewind`, as it runs with
    /// it): only then is a former primary's WAL checked before it follows, as in Patroni.
    public var usePgRewind = false
    /// Replication slots: the members', the permanent ones, those never touched. Unmanaged
    /// unless given (a configuration gives Patroni's defaults: `use_slots` on, 30 minutes'
    /// retention).
    public var slots: SlotSettings

    public init(timings: HATimings = .defaults, maximumLagOnFailover: Int64 = 1_048_576,
                primaryStartTimeout: Duration = .seconds(300), checkTimeline: Bool = false, paused: Bool = false,
                sync: SyncSettings = .off, primaryStopTimeout: Duration? = nil, slots: SlotSettings = .unmanaged) {
        self.timings = timings
        self.maximumLagOnFailover = maximumLagOnFailover
        self.primaryStartTimeout = primaryStartTimeout
        self.checkTimeline = checkTimeline
        self.paused = paused
        self.sync = sync
        self.primaryStopTimeout = primaryStopTimeout.flatMap { $0 > .zero ? $0 : nil }
        self.slots = slots
    }

    public var ttl: Duration { .seconds(timings.ttl) }

    /// How long a primary's fast stop may take before it is made immediate, when the user set
    /// it: Patroni applies `primary_stop_timeout` only in synchronous mode, where a fast stop
    /// waits for the synchronous standbys and the setting trades durability for availability.
    public var primaryStopBudget: Duration? {
        sync.mode == .off ? nil : primaryStopTimeout
    }
}

/// The store as seen this cycle: its contents, or the fact that it could not be read.
public enum StoreView: Sendable, Equatable {
    case reachable(ClusterState)
    case unreachable
}

/// The local PostgreSQL as the shell sees it.
public struct LocalPostgres: Sendable, Equatable {
    public enum DataDirectory: Sendable, Equatable {
        case empty
        /// An initialized cluster and its system identifier.
        case initialized(systemID: String)
    }

    public var dataDirectory: DataDirectory
    public var status: PostgresStatus
    /// The member this instance replicates from, as configured (nil: none, or a primary).
    public var following: String?
    /// When it was last pointed at `following` (nil: long enough ago not to matter).
    public var followingSince: Duration?
    /// When the current start (or crash) began, for `primary_start_timeout`.
    public var stateSince: Duration
    /// A long operation the shell is running (bootstrap, clone, rewind), if any.
    public var busyWith: String?
    /// Whether a running PostgreSQL answered this cycle's queries. When it did not, `status`
    /// carries the role it last had and nothing else.
    public var answering: Bool
    /// Whether this data directory ran as a primary since its WAL was last found within a
    /// leader's history: it may hold records a new leader's timeline lacks (what a cut-off or
    /// demoted primary wrote that nobody received), so its WAL is checked (`Action.checkTimeline`)
    /// before it follows, and it is rewound when needed, rather than re-pointed at a leader its
    /// walreceiver could never stream from (Patroni's `trigger_check_diverged_lsn`).
    public var mayHaveDiverged: Bool

    public init(dataDirectory: DataDirectory, status: PostgresStatus, following: String? = nil,
                followingSince: Duration? = nil, stateSince: Duration = .zero, busyWith: String? = nil,
                answering: Bool = true, mayHaveDiverged: Bool = false) {
        self.dataDirectory = dataDirectory
        self.status = status
        self.following = following
        self.followingSince = followingSince
        self.stateSince = stateSince
        self.busyWith = busyWith
        self.answering = answering
        self.mayHaveDiverged = mayHaveDiverged
    }

    public var isRunning: Bool { status.state == .running }
    public var isRunningPrimary: Bool { isRunning && status.role == .primary }
    public var isRunningReplica: Bool { isRunning && status.role == .replica }
    public var walPosition: Int64 { status.walPosition ?? 0 }
}

extension Observation {
    /// Whether the member key written at the end of this cycle may extend this member's lease.
    /// The lease also carries the leader key, which only a cycle that renewed it (having seen
    /// PostgreSQL healthy) may extend: a leader whose cycle did not renew lets both lapse.
    /// `lock` is the hold on the key after the cycle's actions.
    public func memberWriteMayExtendLease(lock: LockState) -> Bool {
        // A view the store did not give (or a race it did not answer) proves nothing: not extended.
        guard case let .reachable(cluster) = store else { return false }
        guard cluster.leader?.name == me.name else { return true }
        guard !lock.lost, let confirmed = lock.lastConfirmed else { return false }
        return confirmed >= now
    }
}

/// This member's hold on the leader key, as far as the shell knows.
public struct LockState: Sendable, Equatable {
    /// When the request that last proved the key ours (renewal or acquisition) was *sent*:
    /// the store's lease lives at least its TTL from then, so validity is never overestimated.
    public var lastConfirmed: Duration?
    /// The TTL of the lease that confirmation extended. It can differ from the configured ttl
    /// just after a change of `ttl`: a lease keeps the TTL it was granted with until replaced.
    public var leaseTTL: Duration?
    /// The store answered that the key is not ours (set by a failed renewal until the next success).
    public var lost: Bool

    public init(lastConfirmed: Duration? = nil, leaseTTL: Duration? = nil, lost: Bool = false) {
        self.lastConfirmed = lastConfirmed
        self.leaseTTL = leaseTTL
        self.lost = lost
    }

    /// Until when the key can still be ours (nil: it cannot). `ttl` is used when the lease's
    /// own TTL is not known.
    public func validUntil(ttl: Duration) -> Duration? {
        guard let lastConfirmed, !lost else { return nil }
        return lastConfirmed + (leaseTTL ?? ttl)
    }

    /// Whether the key can still be ours: confirmed within the lease's TTL and not known lost.
    public func isValid(at now: Duration, ttl: Duration) -> Bool {
        validUntil(ttl: ttl).map { now < $0 } ?? false
    }
}

/// A peer's answer to `GET /patroni` during a leader race (or its silence).
public struct PeerStatus: Sendable, Equatable {
    public var name: String
    public var reachable: Bool
    public var inRecovery: Bool
    public var walPosition: Int64
    public var nofailover: Bool
    public var failoverPriority: Int64
    public var timeline: Int64?

    public init(name: String, reachable: Bool, inRecovery: Bool = true, walPosition: Int64 = 0,
                nofailover: Bool = false, failoverPriority: Int64 = 1, timeline: Int64? = nil) {
        self.name = name
        self.reachable = reachable
        self.inRecovery = inRecovery
        self.walPosition = walPosition
        self.nofailover = nofailover
        self.failoverPriority = failoverPriority
        self.timeline = timeline
    }

    public static func unreachable(_ name: String) -> PeerStatus { PeerStatus(name: name, reachable: false) }
}
