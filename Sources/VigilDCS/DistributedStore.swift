import VigilCore

/// What the agent and `vigilctl` need from the coordination store. One instance speaks for
/// one member (`memberName`), or for an operator when `memberName` is nil (no lease).
///
/// Conditional writes return `false` when their comparison failed (someone else got there
/// first): that is an answer, not an error. Errors mean the store did not answer in time,
/// or refused; after one, the caller does not know whether the write happened.
public protocol DistributedStore: Sendable {
    var layout: KeyLayout { get }

    /// Everything under the cluster prefix, in one read.
    func readCluster() async throws(StoreError) -> ClusterState

    /// Takes the leader key for this member, on its lease, if no one holds it.
    func acquireLeader() async throws(StoreError) -> Bool
    /// Extends the leader key's lease after proving the key is still this member's.
    func renewLeader() async throws(StoreError) -> LeaderRenewal
    /// Deletes the leader key if (and only if) it is still this member's.
    func releaseLeader() async throws(StoreError) -> Bool

    /// Writes this member's key on its lease. `extendingLease`: extend the lease too (what
    /// keeps a member key alive from cycle to cycle). A leader passes false in a cycle that did
    /// not renew the leader key: the lease carries that key, and only a cycle that saw
    /// PostgreSQL healthy may extend it.
    func publishMember(_ record: MemberRecord, extendingLease: Bool) async throws(StoreError)
    func deleteMember(_ name: String) async throws(StoreError)
    /// Extends this member's lease without writing anything, so its member key outlives an
    /// action longer than `ttl` (a clone, a rewind). False when there is no live lease to extend,
    /// or when the lease carries the leader key (only `renewLeader` may extend that one).
    func keepMemberAlive() async throws(StoreError) -> Bool

    /// `create`: the bootstrap race, won by whoever creates the key first. Otherwise fills in
    /// the system identifier after a successful bootstrap.
    func initialize(systemID: String, create: Bool) async throws(StoreError) -> Bool
    func cancelInitialization() async throws(StoreError)

    /// Writes only if the key is still at `expectedVersion` (nil: unconditionally).
    func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws(StoreError) -> Bool
    func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws(StoreError) -> Bool
    /// nil deletes the key (synchronous mode turned off). Returns the key's new version (0 once
    /// deleted: a compare-and-swap on 0 expects it absent), or nil when the comparison failed.
    func setSync(_ sync: SyncState?, expectedVersion: Int64?) async throws(StoreError) -> Int64?
    func setHistory(_ history: [TimelineEvent]) async throws(StoreError)
    func setStatus(_ status: StatusRecord) async throws(StoreError)
    func setFailsafe(_ value: JSONValue?) async throws(StoreError)

    /// Removes every key of the cluster (`vigilctl remove`).
    func deleteCluster() async throws(StoreError)

    /// Changes under the cluster prefix, as they happen, until the stream is dropped. The
    /// stream starts with `.resynced` once it is live, and says it again after every gap
    /// (store restart, lost connection, compaction): then re-read the whole cluster.
    func changes() -> AsyncStream<StoreChange>

    /// The new `ttl` for leases granted from now on (dynamic config changed).
    func setTTL(_ ttl: Int) async
    /// The per-call deadline (dynamic config's `retry_timeout`).
    func setRetryTimeout(_ seconds: Int) async
    /// Revokes this member's lease (its member and leader keys vanish at once).
    func close() async
}

extension DistributedStore {
    /// Writes this member's key and extends its lease (a member that does not hold the leader key).
    public func publishMember(_ record: MemberRecord) async throws(StoreError) {
        try await publishMember(record, extendingLease: true)
    }
}

/// The answer to "is the leader key still mine?".
public enum LeaderRenewal: Sendable, Equatable {
    /// The key is this member's and its lease was extended.
    case held
    /// The store answered and the key is not this member's (or its lease is gone). Stop
    /// acting as primary.
    case lost(reason: String)
}

/// One change seen by `changes()`.
public enum StoreChange: Sendable, Equatable {
    /// The key (relative to the cluster prefix, e.g. `leader`, `members/n1`) was written or deleted.
    case key(String, deleted: Bool)
    /// The watch is (again) live from a fresh read; anything before it may have been missed.
    case resynced
}
