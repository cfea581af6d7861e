import Synchronization
import VigilCore

/// An etcd in memory: keys with revisions, leases that expire on a `StoreClock`, compare-and-
/// swap transactions and watches, with the semantics Vigil relies on from the real one (the
/// same protocol tests run against both). Each member talks to it through its own
/// connection, which can be given faults of its own.
public actor InMemoryStore {
    private struct Lease {
        var ttl: Int
        var expiresAt: Duration
    }

    private struct Watcher {
        var key: String
        var rangeEnd: String
        var continuation: AsyncThrowingStream<WatchBatch, any Error>.Continuation
    }

    public nonisolated let clock: StoreClock
    private var kvs: [String: KeyValue] = [:]
    private var leases: [Int64: Lease] = [:]
    private var revision: Int64 = 1
    private var nextLease: Int64 = 0x1000
    /// Every change since `compactedThrough`, for watches that start in the past.
    private var log: [(revision: Int64, event: WatchEvent)] = []
    private var compactedThrough: Int64 = 0
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcher = 0

    public init(clock: StoreClock = .system()) {
        self.clock = clock
    }

    /// A connection for one client, with its own faults.
    public nonisolated func connection(faults: StoreFaults = .none) -> InMemoryConnection {
        InMemoryConnection(store: self, faults: faults)
    }

    /// A `DistributedStore` for `memberName` (nil: an operator) over a new connection.
    public nonisolated func store(layout: KeyLayout, memberName: String?, ttl: Int = 30, retryTimeout: Int = 10,
                                  faults: StoreFaults = .none) -> (store: EtcdStore, connection: InMemoryConnection) {
        let connection = connection(faults: faults)
        return (EtcdStore(kv: connection, layout: layout, memberName: memberName, ttl: ttl, retryTimeout: retryTimeout, clock: clock),
                connection)
    }

    /// Forgets history up to `revision`: a watch asking for older events is refused.
    public func compact(through revision: Int64) {
        compactedThrough = max(compactedThrough, revision)
        log.removeAll { $0.revision <= revision }
    }

    /// Drops every watch stream, as a restarting etcd would.
    public func dropWatches() {
        for watcher in watchers.values { watcher.continuation.finish(throwing: StoreError(.unreachable, "store restarted")) }
        watchers.removeAll()
    }

    public var currentRevision: Int64 { revision }

    /// How many watch streams are open (tests wait for a watch to be in place).
    public var watchCount: Int { watchers.count }

    // MARK: Operations (called through a connection)

    func range(_ key: String, rangeEnd: String?) -> RangeResult {
        expireLeases()
        return RangeResult(kvs: matching(key, rangeEnd), revision: revision)
    }

    func txn(_ txn: Txn) throws(StoreError) -> TxnResult {
        expireLeases()
        return try apply(txn)
    }

    func grantLease(ttl: Int) -> Int64 {
        expireLeases()
        nextLease += 1
        leases[nextLease] = Lease(ttl: ttl, expiresAt: clock.now + .seconds(ttl))
        return nextLease
    }

    func keepAlive(_ id: Int64) -> Int64? {
        expireLeases()
        guard var lease = leases[id] else { return nil }
        lease.expiresAt = clock.now + .seconds(lease.ttl)
        leases[id] = lease
        return Int64(lease.ttl)
    }

    func revoke(_ id: Int64) {
        expireLeases()
        guard leases.removeValue(forKey: id) != nil else { return }
        deleteKeys(onLease: id)
    }

    func addWatcher(_ key: String, rangeEnd: String, startRevision: Int64,
                    _ continuation: AsyncThrowingStream<WatchBatch, any Error>.Continuation) -> Int {
        expireLeases()
        nextWatcher += 1
        if startRevision > 0, startRevision <= compactedThrough {
            continuation.finish(throwing: WatchCompacted(compactRevision: compactedThrough))
            return nextWatcher
        }
        watchers[nextWatcher] = Watcher(key: key, rangeEnd: rangeEnd, continuation: continuation)
        if startRevision > 0 {
            let past = log.filter { $0.revision >= startRevision && Self.inRange($0.event.kv.key, key, rangeEnd) }
            if !past.isEmpty { continuation.yield(WatchBatch(events: past.map(\.event), revision: revision)) }
        }
        return nextWatcher
    }

    func removeWatcher(_ id: Int) {
        watchers.removeValue(forKey: id)
    }

    /// Lets time pass for the leases: expired leases drop their keys (as etcd would).
    public func expireLeases() {
        let now = clock.now
        for (id, lease) in leases where lease.expiresAt <= now {
            leases.removeValue(forKey: id)
            deleteKeys(onLease: id)
        }
    }

    // MARK: Internals

    private static func inRange(_ candidate: String, _ key: String, _ rangeEnd: String?) -> Bool {
        guard let rangeEnd else { return candidate == key }
        return candidate >= key && (rangeEnd == "\0" || candidate < rangeEnd)
    }

    private func matching(_ key: String, _ rangeEnd: String?) -> [KeyValue] {
        guard rangeEnd != nil else { return kvs[key].map { [$0] } ?? [] }
        return kvs.values.filter { Self.inRange($0.key, key, rangeEnd) }.sorted { $0.key < $1.key }
    }

    private func holds(_ compare: Txn.Compare) -> Bool {
        switch compare {
        case let .createRevision(key, value): (kvs[key]?.createRevision ?? 0) == value
        case let .modRevision(key, value): (kvs[key]?.modRevision ?? 0) == value
        case let .value(key, value): kvs[key]?.value == value
        case let .lease(key, value): (kvs[key]?.lease ?? 0) == value
        }
    }

    /// Applies a transaction; all its writes share one new revision, as in etcd.
    private func apply(_ txn: Txn) throws(StoreError) -> TxnResult {
        let succeeded = txn.compare.allSatisfy(holds)
        let operations = succeeded ? txn.success : txn.failure
        var events: [WatchEvent] = []
        let writeRevision = revision + 1
        let responses = try operations.map { (op) throws(StoreError) -> TxnResult.Response in
            try run(op, at: writeRevision, events: &events)
        }
        if !events.isEmpty {
            revision = writeRevision
            publish(events)
        }
        return TxnResult(succeeded: succeeded, responses: responses, revision: revision)
    }

    private func run(_ op: Txn.Operation, at writeRevision: Int64, events: inout [WatchEvent]) throws(StoreError) -> TxnResult.Response {
        switch op {
        case let .put(key, value, lease):
            if lease != 0, leases[lease] == nil {
                throw StoreError(.leaseNotFound, "etcdserver: requested lease not found")
            }
            let created = kvs[key]?.createRevision ?? writeRevision
            let kv = KeyValue(key: key, value: value, createRevision: created, modRevision: writeRevision, lease: lease)
            kvs[key] = kv
            events.append(WatchEvent(deleted: false, kv: kv))
            return .put
        case let .delete(key, rangeEnd):
            let doomed = matching(key, rangeEnd)
            for kv in doomed {
                kvs.removeValue(forKey: kv.key)
                events.append(WatchEvent(deleted: true, kv: KeyValue(key: kv.key, value: "", createRevision: 0,
                                                                    modRevision: writeRevision, lease: 0)))
            }
            return .delete(deleted: Int64(doomed.count))
        case let .range(key):
            return .range(matching(key, nil))
        case let .txn(inner):
            let succeeded = inner.compare.allSatisfy(holds)
            let responses = try (succeeded ? inner.success : inner.failure).map { (op) throws(StoreError) -> TxnResult.Response in
                try run(op, at: writeRevision, events: &events)
            }
            return .txn(TxnResult(succeeded: succeeded, responses: responses, revision: writeRevision))
        }
    }

    private func deleteKeys(onLease id: Int64) {
        let doomed = kvs.values.filter { $0.lease == id }.map(\.key).sorted()
        guard !doomed.isEmpty else { return }
        revision += 1
        var events: [WatchEvent] = []
        for key in doomed {
            kvs.removeValue(forKey: key)
            events.append(WatchEvent(deleted: true, kv: KeyValue(key: key, value: "", createRevision: 0,
                                                                modRevision: revision, lease: 0)))
        }
        publish(events)
    }

    private func publish(_ events: [WatchEvent]) {
        log.append(contentsOf: events.map { (revision, $0) })
        for watcher in watchers.values {
            let mine = events.filter { Self.inRange($0.kv.key, watcher.key, watcher.rangeEnd) }
            if !mine.isEmpty { watcher.continuation.yield(WatchBatch(events: mine, revision: revision)) }
        }
    }
}

/// One client's connection to an `InMemoryStore`, with faults that can change at any time.
public final class InMemoryConnection: EtcdKV {
    public let store: InMemoryStore
    private let currentFaults: Mutex<StoreFaults>

    init(store: InMemoryStore, faults: StoreFaults) {
        self.store = store
        currentFaults = Mutex(faults)
    }

    public var faults: StoreFaults {
        get { currentFaults.withLock { $0 } }
        set { currentFaults.withLock { $0 = newValue } }
    }

    /// Throws the fault a call should see before it reaches the store. Latency is time spent
    /// on a manual clock (the simulation's): the call answers that much later, or gives up when
    /// its budget runs out first, as a client's timeout does.
    private func reach(budget: Duration) throws(StoreError) {
        let faults = self.faults
        if faults.unreachable { throw StoreError(.unreachable, "connection refused (injected)") }
        if faults.noLeader { throw StoreError(.noLeader, "etcdserver: no leader (injected)") }
        if faults.latency > .zero { store.clock.advance(by: min(faults.latency, budget)) }
        if faults.latency >= budget { throw StoreError(.timedOut, "no answer within \(budget) (injected latency)") }
    }

    /// Throws a lost response after a write was applied, when told to.
    private func answer(write: Bool = false) throws(StoreError) {
        if faults.loseResponsesAfterCommit || (write && faults.loseWriteResponsesAfterCommit) {
            throw StoreError(.timedOut, "response lost after commit (injected)")
        }
    }

    public func range(_ key: String, rangeEnd: String?, serializable: Bool, budget: Duration) async throws(StoreError) -> RangeResult {
        try reach(budget: budget)
        return await store.range(key, rangeEnd: rangeEnd)
    }

    public func txn(_ txn: Txn, budget: Duration) async throws(StoreError) -> TxnResult {
        try reach(budget: budget)
        let result = try await store.txn(txn)
        try answer(write: true)
        return result
    }

    public func grantLease(ttl: Int, budget: Duration) async throws(StoreError) -> Int64 {
        try reach(budget: budget)
        let lease = await store.grantLease(ttl: ttl)
        try answer()
        return lease
    }

    public func keepAlive(lease: Int64, budget: Duration) async throws(StoreError) -> Int64? {
        try reach(budget: budget)
        let ttl = await store.keepAlive(lease)
        try answer()
        return ttl
    }

    public func revokeLease(_ lease: Int64, budget: Duration) async throws(StoreError) {
        try reach(budget: budget)
        await store.revoke(lease)
        try answer()
    }

    public func watch(_ key: String, rangeEnd: String, startRevision: Int64) -> AsyncThrowingStream<WatchBatch, any Error> {
        let store = self.store
        let faults = self.faults
        return AsyncThrowingStream { continuation in
            if faults.unreachable || faults.noLeader {
                continuation.finish(throwing: StoreError(.unreachable, "connection refused (injected)"))
                return
            }
            let task = Task {
                let id = await store.addWatcher(key, rangeEnd: rangeEnd, startRevision: startRevision, continuation)
                await withTaskCancellationHandler {
                    // Park until cancelled; events arrive through the continuation.
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                } onCancel: {
                    Task { await store.removeWatcher(id) }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
