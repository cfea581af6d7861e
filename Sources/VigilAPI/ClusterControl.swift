import VigilCore

/// What the REST API's mutating endpoints need from the agent: the store as it is now, the
/// two keys an operator writes, the peers' status, and the HA loop for the operations that
/// touch PostgreSQL (which the loop runs between cycles, never alongside one).
public protocol ClusterControl: Sendable {
    /// A fresh read of the store (not the snapshot).
    func readCluster() async throws -> ClusterState
    /// Writes the `failover` key; `expectedVersion` nil writes unconditionally. false: the CAS failed.
    func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws -> Bool
    func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws -> Bool
    /// A member's `GET /patroni`, 2 s at most.
    func peerStatus(_ member: Member) async -> PeerStatus
    /// The HA loop's `loop_wait`, for the switchover poll.
    var loopWait: Int { get async }
    /// Runs an operation on the local PostgreSQL from the HA loop; returns the HTTP status and message.
    func perform(_ operation: LocalOperation) async -> (status: Int, message: String)
}

/// Operations on the local node that the HA loop carries out for a REST request.
public enum LocalOperation: Sendable, Equatable {
    /// Restart PostgreSQL now; `timeout` overrides primary_start_timeout for this start.
    case restart(RestartRequest)
    /// Remember a restart for later (`at` in wall-clock seconds).
    case scheduleRestart(RestartRequest, at: Double)
    case cancelScheduledRestart
    /// Replace the data directory with a fresh copy of the leader's.
    case reinitialize(force: Bool, fromLeader: Bool)
    /// Re-read the configuration file (as SIGHUP).
    case reload
}

/// The conditions of `POST /restart`.
public struct RestartRequest: Sendable, Equatable {
    /// Restart only if the node has this role (primary, replica, standby_leader).
    public var role: String?
    /// Restart only if the running server version is lower than this (e.g. "18.7").
    public var postgresVersion: String?
    /// Restart only if a parameter is waiting for a restart.
    public var onlyIfPending: Bool
    public var timeout: Int?
    /// As written, for the member key.
    public var schedule: String?

    public init(role: String? = nil, postgresVersion: String? = nil, onlyIfPending: Bool = false, timeout: Int? = nil,
                schedule: String? = nil) {
        self.role = role
        self.postgresVersion = postgresVersion
        self.onlyIfPending = onlyIfPending
        self.timeout = timeout
        self.schedule = schedule
    }
}
