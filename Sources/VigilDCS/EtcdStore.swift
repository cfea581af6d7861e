import VigilCore

/// Patroni's etcd v3 protocol, written once over any `EtcdKV` (the real gateway, or the
/// in-memory one for tests and simulation).
///
/// One lease per member (TTL = `ttl`) carries its member key and, while it leads, the leader
/// key, so an agent that dies loses both `ttl` seconds after its last renewal. The leader key
/// is taken only by a transaction that checks it does not exist, and renewed or released
/// only by one that checks it is still this member's.
public actor EtcdStore: DistributedStore {
    public nonisolated let layout: KeyLayout
    public nonisolated let memberName: String?
    private let kv: any EtcdKV
    private var ttl: Int
    private var retryTimeout: Int
    /// The clock calls are timed by: the real one, or the simulation's manual one.
    private let clock: StoreClock
    /// While this member may lead, the moment its PostgreSQL must have stopped taking writes
    /// unless a renewal moves it (store-clock time): no call runs past it, so the HA loop is
    /// back in time to act on its deadline instead of waiting out a retry_timeout.
    private var callsEnd: Duration?
    /// Keys parsed by the last `readCluster`, kept while they do not change.
    private var decoded = ClusterStateDecoder.Cache()
    private var lease: Int64?

    /// - Parameters:
    ///   - memberName: the member this store speaks for; nil for an operator's tool (no lease,
    ///     linearizable reads).
    public init(kv: any EtcdKV, layout: KeyLayout, memberName: String?, ttl: Int, retryTimeout: Int, clock: StoreClock = .system()) {
        self.kv = kv
        self.layout = layout
        self.memberName = memberName
        self.ttl = ttl
        self.retryTimeout = retryTimeout
        self.clock = clock
    }

    /// Sets (or, with nil, lifts) the end no call may run past.
    public func endCalls(by end: Duration?) {
        callsEnd = end
    }

    /// A new call's deadline: retry_timeout from now, or the end set by `endCalls(by:)` when
    /// that comes first.
    private func deadline() -> Deadline {
        let own = clock.now + .seconds(retryTimeout)
        guard let callsEnd, callsEnd < own else { return Deadline(clock: clock, end: own, capped: false) }
        return Deadline(clock: clock, end: callsEnd, capped: true)
    }

    /// The time a single-request call may take.
    private var budget: Duration {
        get throws(StoreError) { try deadline().remaining() }
    }

    /// This member's name, for operations only a member may perform.
    private func me() throws(StoreError) -> String {
        guard let memberName else { throw StoreError(.rejected, "this store was opened without a member name") }
        return memberName
    }

    // MARK: Leases

    public var currentLease: Int64? { lease }

    private func ensureLease(_ deadline: Deadline) async throws(StoreError) -> Int64 {
        if let lease { return lease }
        let granted = try await kv.grantLease(ttl: ttl, budget: try deadline.remaining())
        lease = granted
        return granted
    }

    /// Keeps the lease alive, or replaces it when it has expired. Returns the live lease.
    private func refreshLease(_ deadline: Deadline) async throws(StoreError) -> Int64 {
        if let lease, try await kv.keepAlive(lease: lease, budget: try deadline.remaining()) != nil {
            return lease
        }
        lease = nil
        return try await ensureLease(deadline)
    }

    // MARK: DistributedStore

    public func readCluster() async throws(StoreError) -> ClusterState {
        let result = try await kv.range(layout.prefix, rangeEnd: layout.prefix.prefixRangeEnd,
                                        serializable: false, budget: try budget)
        return ClusterStateDecoder.decode(result.kvs, layout: layout, revision: result.revision, cache: &decoded)
    }

    public func acquireLeader() async throws(StoreError) -> Bool {
        let name = try me()
        let deadline = deadline()
        for attempt in 0..<2 {
            // The lease is extended first, always: the key then lives a full ttl from the moment
            // the caller sent this request, which is what the caller counts its hold from (a lease
            // extended a moment ago would end that moment sooner than the caller thinks).
            let lease = try await refreshLease(deadline)
            let txn = Txn(compare: [.createRevision(layout.leader, 0)],
                          success: [.put(layout.leader, name, lease: lease)],
                          failure: [.range(layout.leader)])
            do {
                let result = try await kv.txn(txn, budget: try deadline.remaining())
                if result.succeeded { return true }
                // An earlier attempt whose answer was lost may have taken it for us.
                guard case let .range(kvs)? = result.responses.first, let holder = kvs.first else { return false }
                return holder.value == name && holder.lease == lease
            } catch let error where error.kind == .leaseNotFound && attempt == 0 {
                self.lease = nil
            }
        }
        return false
    }

    public func renewLeader() async throws(StoreError) -> LeaderRenewal {
        let name = try me()
        let deadline = deadline()
        let lease: Int64
        if let current = self.lease {
            guard try await kv.keepAlive(lease: current, budget: try deadline.remaining()) != nil else {
                self.lease = nil
                return .lost(reason: "the lease expired")
            }
            lease = current
        } else {
            // A restarted agent has a new lease: the key, if it still bears this member's name,
            // moves onto it below. (Two live agents never share a name: the agent refuses to
            // start when another with its name answers.)
            lease = try await ensureLease(deadline)
        }
        // Prove the key is ours: our name on our lease. If our name sits on an older lease of
        // ours, move it onto this one (as Patroni does); if the key is gone, take it back only
        // by an atomic create.
        let txn = Txn(
            compare: [.value(layout.leader, name), .lease(layout.leader, lease)],
            success: [],
            failure: [.txn(Txn(
                compare: [.value(layout.leader, name)],
                success: [.put(layout.leader, name, lease: lease)],
                failure: [.txn(Txn(compare: [.createRevision(layout.leader, 0)],
                                   success: [.put(layout.leader, name, lease: lease)],
                                   failure: [.range(layout.leader)]))]))])
        let result = try await kv.txn(txn, budget: try deadline.remaining())
        if result.succeeded { return .held }
        guard case let .txn(moved)? = result.responses.first else {
            return .lost(reason: "the store's answer did not prove ownership")
        }
        if moved.succeeded { return .held }
        guard case let .txn(recreated)? = moved.responses.first else {
            return .lost(reason: "the store's answer did not prove ownership")
        }
        if recreated.succeeded { return .held }
        if case let .range(kvs)? = recreated.responses.first, let holder = kvs.first {
            return .lost(reason: "the leader key belongs to \(holder.value)")
        }
        return .lost(reason: "the leader key belongs to another member")
    }

    public func releaseLeader() async throws(StoreError) -> Bool {
        let name = try me()
        let txn = Txn(compare: [.value(layout.leader, name)], success: [.delete(layout.leader, rangeEnd: nil)])
        return try await kv.txn(txn, budget: try budget).succeeded
    }

    public func publishMember(_ record: MemberRecord, extendingLease: Bool) async throws(StoreError) {
        let name = try me()
        let deadline = deadline()
        let value = record.jsonValue.compactText
        // Without extending: on the lease as it is; once it has lapsed (taking the leader key with
        // it), on a new one.
        for attempt in 0..<2 {
            let lease = extendingLease ? try await refreshLease(deadline) : try await ensureLease(deadline)
            do {
                _ = try await kv.txn(Txn(compare: [], success: [.put(layout.member(name), value, lease: lease)]),
                                     budget: try deadline.remaining())
                return
            } catch let error where error.kind == .leaseNotFound && attempt == 0 {
                self.lease = nil
            }
        }
    }

    public func keepMemberAlive() async throws(StoreError) -> Bool {
        guard let lease else { return false }
        let deadline = deadline()
        // The leader key on this lease (a release that failed, a key kept across a restart) must
        // lapse unless a healthy cycle renews it: then the member key lapses with it.
        let leader = try await kv.range(layout.leader, rangeEnd: nil, serializable: false, budget: try deadline.remaining())
        if leader.kvs.contains(where: { $0.lease == lease }) { return false }
        guard try await kv.keepAlive(lease: lease, budget: try deadline.remaining()) != nil else {
            self.lease = nil
            return false
        }
        return true
    }

    public func deleteMember(_ name: String) async throws(StoreError) {
        _ = try await kv.txn(Txn(compare: [], success: [.delete(layout.member(name), rangeEnd: nil)]), budget: try budget)
    }

    public func initialize(systemID: String, create: Bool) async throws(StoreError) -> Bool {
        let put = Txn.Operation.put(layout.initialize, systemID, lease: 0)
        let txn = create ? Txn(compare: [.createRevision(layout.initialize, 0)], success: [put]) : Txn(compare: [], success: [put])
        return try await kv.txn(txn, budget: try budget).succeeded
    }

    public func cancelInitialization() async throws(StoreError) {
        _ = try await kv.txn(Txn(compare: [], success: [.delete(layout.initialize, rangeEnd: nil)]), budget: try budget)
    }

    private func conditionalPut(_ key: String, _ value: String, expectedVersion: Int64?) async throws(StoreError) -> Bool {
        let compare: [Txn.Compare] = expectedVersion.map { [.modRevision(key, $0)] } ?? []
        return try await kv.txn(Txn(compare: compare, success: [.put(key, value, lease: 0)]), budget: try budget).succeeded
    }

    public func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws(StoreError) -> Bool {
        try await conditionalPut(layout.config, value.compactText, expectedVersion: expectedVersion)
    }

    public func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws(StoreError) -> Bool {
        try await conditionalPut(layout.failover, request.jsonValue.compactText, expectedVersion: expectedVersion)
    }

    public func setSync(_ sync: SyncState?, expectedVersion: Int64?) async throws(StoreError) -> Int64? {
        let compare: [Txn.Compare] = expectedVersion.map { [.modRevision(layout.sync, $0)] } ?? []
        let operation: Txn.Operation = sync.map { .put(layout.sync, $0.jsonValue.compactText, lease: 0) } ?? .delete(layout.sync, rangeEnd: nil)
        let result = try await kv.txn(Txn(compare: compare, success: [operation]), budget: try budget)
        // A put's key now has the transaction's revision as its mod revision.
        guard result.succeeded else { return nil }
        return sync == nil ? 0 : result.revision
    }

    public func setHistory(_ history: [TimelineEvent]) async throws(StoreError) {
        _ = try await conditionalPut(layout.history, JSONValue.array(history.map(\.jsonValue)).compactText, expectedVersion: nil)
    }

    public func setStatus(_ status: StatusRecord) async throws(StoreError) {
        _ = try await conditionalPut(layout.status, status.jsonValue.compactText, expectedVersion: nil)
    }

    public func setFailsafe(_ value: JSONValue?) async throws(StoreError) {
        if let value {
            _ = try await conditionalPut(layout.failsafe, value.compactText, expectedVersion: nil)
        } else {
            _ = try await kv.txn(Txn(compare: [], success: [.delete(layout.failsafe, rangeEnd: nil)]), budget: try budget)
        }
    }

    public func deleteCluster() async throws(StoreError) {
        _ = try await kv.txn(Txn(compare: [], success: [.delete(layout.prefix, rangeEnd: layout.prefix.prefixRangeEnd)]),
                             budget: try budget)
    }

    /// A lease keeps the TTL it was granted with: a new one is granted at the next write, and
    /// the renewal moves the leader key onto it.
    public func setTTL(_ ttl: Int) {
        if ttl != self.ttl { lease = nil }
        self.ttl = ttl
    }

    public func setRetryTimeout(_ seconds: Int) {
        retryTimeout = seconds
    }

    public func close() async {
        guard let lease else { return }
        self.lease = nil
        // Not a step of the HA cycle either: a leader's deadline left from its last cycle does not cut it.
        try? await kv.revokeLease(lease, budget: .seconds(retryTimeout))
    }

    // MARK: Watch

    public nonisolated func changes() -> AsyncStream<StoreChange> {
        AsyncStream { continuation in
            let task = Task { await self.followChanges(continuation) }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Watches from the revision of a full read, announced by `.resynced`: from then on no
    /// change is missed. After any break (etcd restarted, the connection lost) it starts over
    /// from a fresh read, with another `.resynced`, backing off up to a second between attempts.
    private func followChanges(_ continuation: AsyncStream<StoreChange>.Continuation) async {
        let prefix = layout.prefix
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let revision: Int64
            do {
                // The watch is not a step of the HA cycle: the leader's deadline does not cut it.
                revision = try await kv.range(prefix, rangeEnd: prefix.prefixRangeEnd, serializable: true,
                                              budget: .seconds(retryTimeout)).revision
            } catch {
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
                continue
            }
            continuation.yield(.resynced)
            do {
                for try await batch in kv.watch(prefix, rangeEnd: prefix.prefixRangeEnd, startRevision: revision + 1) {
                    backoff = .milliseconds(100)
                    for event in batch.events {
                        guard let relative = layout.relative(event.kv.key) else { continue }
                        continuation.yield(.key(relative, deleted: event.deleted))
                    }
                }
            } catch {
                // Fall through to a fresh read and a new watch.
            }
            if Task.isCancelled { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
        continuation.finish()
    }
}

/// A point in time a multi-step call must finish by.
struct Deadline {
    let clock: StoreClock
    let end: Duration
    /// Set when the end is the leader's deadline rather than the call's retry_timeout.
    let capped: Bool

    func remaining() throws(StoreError) -> Duration {
        let left = end - clock.now
        guard left > .zero else {
            throw StoreError(.timedOut, capped ? "the leader's deadline came first (the call was cut short to act on it)"
                                               : "the call's deadline passed")
        }
        return left
    }
}
