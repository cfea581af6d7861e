import VigilCore

/// What the REST API answers from: the agent's view at the end of its last cycle, updated
/// at once when the postmaster exits. Health checks never run SQL; they read this.
public struct NodeSnapshot: Sendable {
    public var scope: String
    public var name: String
    public var postgres: PostgresStatus
    /// Whether a running PostgreSQL answered the agent's last queries. One that did not is
    /// reported as Patroni reports it, state `unknown` with no WAL positions: no health check
    /// passes for it and no peer counts on it in a race.
    public var postgresAnswering = true
    /// A long operation under way ("creating replica", "initializing new cluster"), shown as the state.
    public var busyWith: String?
    /// The role Patroni reports when PostgreSQL is not running: uninitialized, demoted, replica, primary.
    public var internalRole: String
    /// The last successful read of the store and when it happened.
    public var cluster: ClusterState?
    public var clusterReadAt: ContinuousClock.Instant?
    /// Wall-clock seconds of the last successful store read (`dcs_last_seen`).
    public var dcsLastSeen: Int64?
    /// Until when this member may consider itself the leader (lock confirmed + ttl); nil: not the leader.
    public var leaderUntil: ContinuousClock.Instant?
    public var paused: Bool
    /// The cluster's synchronous mode in force.
    public var syncMode: SyncSettings.Mode = .off
    /// The effective tags as published (only those that are set).
    public var tags: JSONValue?
    public var noloadbalance: Bool
    public var ttl: Int
    public var maximumLagOnFailover: Int64
    /// When the HA loop should next have run; /liveness fails once it is late by `ttl` (2×ttl on replicas).
    public var nextRun: ContinuousClock.Instant?
    public var version: String
    public var cycles = CycleHistogram()
    /// How long calls to the store took, by call (`kv/range`, `kv/txn`, `lease/keepalive`…).
    public var storeCalls: [String: CycleHistogram] = [:]
    /// Promotions and demotions, by the engine's reason code.
    public var roleChanges: [String: Int64] = [:]
    /// The fence outside the agent, as it last answered.
    public var fence = FenceReport.disarmed
    /// The watchdog device the fence keeps alive, as the fence last said.
    public var watchdog = WatchdogReport.off
    /// The watchdog is required but cannot be used: peers do not let this node lead (Patroni's
    /// `watchdog_failed`).
    public var watchdogFailed = false

    public init(scope: String, name: String, postgres: PostgresStatus = PostgresStatus(state: .stopped),
                busyWith: String? = nil, internalRole: String = "uninitialized", cluster: ClusterState? = nil,
                clusterReadAt: ContinuousClock.Instant? = nil, dcsLastSeen: Int64? = nil,
                leaderUntil: ContinuousClock.Instant? = nil, paused: Bool = false, tags: JSONValue? = nil,
                noloadbalance: Bool = false, ttl: Int = 30, maximumLagOnFailover: Int64 = 1_048_576,
                nextRun: ContinuousClock.Instant? = nil, version: String = VigilVersion.string) {
        self.scope = scope
        self.name = name
        self.postgres = postgres
        self.busyWith = busyWith
        self.internalRole = internalRole
        self.cluster = cluster
        self.clusterReadAt = clusterReadAt
        self.dcsLastSeen = dcsLastSeen
        self.leaderUntil = leaderUntil
        self.paused = paused
        self.tags = tags
        self.noloadbalance = noloadbalance
        self.ttl = ttl
        self.maximumLagOnFailover = maximumLagOnFailover
        self.nextRun = nextRun
        self.version = version
    }

    public func isLeader(at now: ContinuousClock.Instant) -> Bool { leaderUntil.map { now < $0 } ?? false }

    /// The store view if it is fresh (read within `ttl`), as Patroni's health checks require.
    public func freshCluster(at now: ContinuousClock.Instant) -> ClusterState? {
        guard let cluster, let clusterReadAt, now - clusterReadAt < .seconds(ttl) else { return nil }
        return cluster
    }

    /// Patroni's state string.
    /// Takes the WAL positions read when `GET /patroni` was asked. A server that did not answer
    /// is shown as Patroni shows one whose query failed (state "unknown", no `xlog`), not with
    /// its last cycle's positions: a standby's may be behind commits it has confirmed since,
    /// and a peer in a quorum race would count it as a voter that is not ahead.
    public mutating func take(_ live: LivePositions) {
        switch live {
        case let .read(positions): postgres.update(with: positions)
        case .unanswered: postgresAnswering = false
        case .notAsked: break
        }
    }

    public var stateText: String {
        if let busyWith { return busyWith }
        switch postgres.state {
        case .uninitialized, .stopped: return "stopped"
        case .starting: return "starting"
        case .running: return postgresAnswering ? "running" : "unknown"
        case .stopping: return "stopping"
        case .crashed: return "crashed"
        }
    }

    public var isRunning: Bool { postgres.state == .running && postgresAnswering && busyWith == nil }
    /// A running replica the `sync` key lists while synchronous mode is on (Patroni's
    /// `sync_standby`, or `quorum_standby` in quorum mode), by the view of the store given.
    public func isListedStandby(in cluster: ClusterState?) -> Bool {
        isRunning && postgres.role == .replica && SyncReplication.isListedStandby(name, in: cluster, mode: syncMode)
    }

    /// The role from PostgreSQL while it runs, the agent's own otherwise.
    public var role: String { isRunning ? (postgres.role?.rawValue ?? internalRole) : internalRole }
}

/// The fence as the agent last heard from it: what `/patroni` and `/metrics` say of it.
public enum FenceReport: Sendable, Equatable {
    /// Nothing to guard (a replica, a stopped server, pause).
    case disarmed
    /// PostgreSQL is stopped at `until` unless a renewal of the leader key moves it.
    case armed(until: ContinuousClock.Instant)
    /// The fence could not be told (not started, not answering): a primary without its fence.
    case failing(String)

    public var name: String {
        switch self {
        case .disarmed: "disarmed"
        case .armed: "armed"
        case .failing: "failing"
        }
    }
}

/// The watchdog device behind the fence.
public enum WatchdogReport: Sendable, Equatable {
    /// None runs (mode off, not a primary, or none asked for yet).
    case off
    /// It runs with this timeout in seconds, kept alive with every renewal of the lease.
    case running(timeout: Int)
    /// It was asked for and could not be started: why.
    case failed(String)
}
