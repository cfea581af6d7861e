/// What the agent knows about its local PostgreSQL at one moment: the input the HA engine
/// and the health endpoints work from.
public struct PostgresStatus: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// No data directory yet.
        case uninitialized
        case stopped
        case starting
        case running
        case stopping
        /// The postmaster exited without being asked to; the exit status as text.
        case crashed(String)
    }

    public enum Role: String, Sendable, Equatable {
        case primary
        case replica
    }

    public var state: State
    public var role: Role?
    public var timeline: Int64?
    /// Primary: flushed WAL position. Replica: the larger of received and replayed.
    public var walPosition: Int64?
    public var receiveLSN: Int64?
    public var replayLSN: Int64?
    /// Replica: streaming, or in archive recovery.
    public var replicationState: String?
    /// Primary: its standbys as `pg_stat_replication` shows them.
    public var replication: [StandbyConnection]
    public var slots: [ReplicationSlot]
    public var postmasterStartTime: String?
    public var systemIdentifier: String?
    /// `server_version_num`, e.g. 180001.
    public var serverVersion: Int64?
    /// Parameters changed in the configuration that take effect only after a restart.
    public var pendingRestart: [String]
    /// Primary: `synchronous_standby_names` and `synchronous_commit` as the server runs them.
    public var synchronousStandbyNames: String?
    public var synchronousCommit: String?
    /// Whether the configuration carries Vigil's own `synchronous_standby_names` (synchronous
    /// mode) rather than the node's configured one.
    public var syncNamesManaged: Bool = false

    public init(state: State, role: Role? = nil, timeline: Int64? = nil, walPosition: Int64? = nil,
                receiveLSN: Int64? = nil, replayLSN: Int64? = nil, replicationState: String? = nil,
                replication: [StandbyConnection] = [], slots: [ReplicationSlot] = [],
                postmasterStartTime: String? = nil, systemIdentifier: String? = nil, pendingRestart: [String] = []) {
        self.state = state
        self.role = role
        self.timeline = timeline
        self.walPosition = walPosition
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
        self.replicationState = replicationState
        self.replication = replication
        self.slots = slots
        self.postmasterStartTime = postmasterStartTime
        self.systemIdentifier = systemIdentifier
        self.pendingRestart = pendingRestart
    }
}

/// One row of `pg_stat_replication`.
public struct StandbyConnection: Sendable, Equatable {
    public var applicationName: String
    public var clientAddress: String?
    public var state: String
    public var syncState: String
    public var sentLSN: Int64?
    public var flushLSN: Int64?
    public var replayLSN: Int64?
    public var writeLSN: Int64?
    public var syncPriority: Int64?

    public init(applicationName: String, clientAddress: String?, state: String, syncState: String,
                sentLSN: Int64?, flushLSN: Int64?, replayLSN: Int64?, writeLSN: Int64? = nil, syncPriority: Int64? = nil) {
        self.writeLSN = writeLSN ?? flushLSN
        self.syncPriority = syncPriority
        self.applicationName = applicationName
        self.clientAddress = clientAddress
        self.state = state
        self.syncState = syncState
        self.sentLSN = sentLSN
        self.flushLSN = flushLSN
        self.replayLSN = replayLSN
    }
}

/// One row of `pg_replication_slots` (temporary slots left out: they are a session's own).
public struct ReplicationSlot: Sendable, Equatable {
    public var name: String
    /// physical or logical
    public var type: String
    public var active: Bool
    public var restartLSN: Int64?
    /// A logical slot's database and output plugin.
    public var database: String?
    public var plugin: String?
    /// `wal_status`: reserved, extended, unreserved, or lost (its WAL is gone: it is useless).
    public var walStatus: String?
    /// Whether it holds back vacuum (`xmin` set: a hot standby's feedback went through it).
    public var holdsXmin: Bool

    public init(name: String, type: String, active: Bool, restartLSN: Int64?, database: String? = nil,
                plugin: String? = nil, walStatus: String? = nil, holdsXmin: Bool = false) {
        self.name = name
        self.type = type
        self.active = active
        self.restartLSN = restartLSN
        self.database = database
        self.plugin = plugin
        self.walStatus = walStatus
        self.holdsXmin = holdsXmin
    }
}
