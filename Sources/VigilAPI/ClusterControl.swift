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
    /// The local PostgreSQL's WAL positions now (1 s at most), for `GET /patroni`.
    func livePositions() async -> LivePositions
}

extension ClusterControl {
    public func livePositions() async -> LivePositions { .notAsked }
}

/// What `GET /patroni` learned of the local PostgreSQL's WAL positions when it was asked.
public enum LivePositions: Sendable, Equatable {
    /// Read now: they replace the last cycle's.
    case read(WALPositions)
    /// It does not run, or did not answer in time.
    case unanswered
    /// Not asked (a control with no PostgreSQL of its own): the last cycle's view stands.
    case notAsked
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

