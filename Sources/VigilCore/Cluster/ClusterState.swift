/// Everything the store says about one cluster, read in one call: an immutable value the HA
/// engine, the REST API and `vigilctl` all work from.
public struct ClusterState: Sendable, Equatable {
    /// The system identifier of the initialized cluster; "" while a bootstrap is under way;
    /// nil when nobody has started one.
    public var initialize: String?
    /// The dynamic configuration (`config` key) with its version for compare-and-swap.
    public var config: Versioned<JSONValue>?
    public var leader: LeaderLock?
    public var members: [Member]
    public var status: StatusRecord?
    public var history: Versioned<[TimelineEvent]>?
    public var failover: Versioned<FailoverRequest>?
    public var sync: Versioned<SyncState>?
    public var failsafe: JSONValue?
    /// The store's revision this view was read at.
    public var revision: Int64
    /// Keys that were present but could not be read (someone wrote them by hand, or a newer
    /// version did). They are skipped, and each is named here so it can be logged.
    public var problems: [KeyProblem]

    public init(initialize: String? = nil, config: Versioned<JSONValue>? = nil, leader: LeaderLock? = nil,
                members: [Member] = [], status: StatusRecord? = nil, history: Versioned<[TimelineEvent]>? = nil,
                failover: Versioned<FailoverRequest>? = nil, sync: Versioned<SyncState>? = nil,
                failsafe: JSONValue? = nil, revision: Int64 = 0, problems: [KeyProblem] = []) {
        self.initialize = initialize
        self.config = config
        self.leader = leader
        self.members = members
        self.status = status
        self.history = history
        self.failover = failover
        self.sync = sync
        self.failsafe = failsafe
        self.revision = revision
        self.problems = problems
    }

    public static let empty = ClusterState()

    /// No leader key: a leader race is due (or bootstrap, if `initialize` is nil).
    public var isUnlocked: Bool { leader == nil }

    public func member(named name: String) -> Member? { members.first { $0.name == name } }

    /// The leader's own member entry, if it published one.
    public var leaderMember: Member? { leader.flatMap { member(named: $0.name) } }

    /// Patroni's `cluster.timeline`: one past the last timeline in the history; 1 for an
    /// empty history, 0 when there is no history key at all.
    public var timeline: Int64 {
        guard let history else { return 0 }
        return (history.value.last?.timeline ?? 0) + 1
    }
}

/// A key that was skipped because its value could not be read.
public struct KeyProblem: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}
