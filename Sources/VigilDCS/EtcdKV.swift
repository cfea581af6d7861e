/// The slice of etcd's v3 API that Vigil uses, as plain values. Two implementations: the
/// HTTP gateway client (`EtcdGateway`) and an in-memory one with an injected clock and
/// faults (`InMemoryEtcd`). `EtcdStore` writes Patroni's protocol once, on top of either.
public protocol EtcdKV: Sendable {
    /// Keys from `key` up to (not including) `rangeEnd`; only `key` when `rangeEnd` is nil.
    /// `serializable` reads may be served by a follower without a quorum round-trip.
    func range(_ key: String, rangeEnd: String?, serializable: Bool, budget: Duration) async throws(StoreError) -> RangeResult
    func txn(_ txn: Txn, budget: Duration) async throws(StoreError) -> TxnResult
    func grantLease(ttl: Int, budget: Duration) async throws(StoreError) -> Int64
    /// The lease's remaining TTL, or nil when it no longer exists.
    func keepAlive(lease: Int64, budget: Duration) async throws(StoreError) -> Int64?
    func revokeLease(_ lease: Int64, budget: Duration) async throws(StoreError)
    /// Changes to keys in [key, rangeEnd) after `startRevision` (0 = from now). The stream
    /// ends with an error when the connection drops or the revision was compacted.
    func watch(_ key: String, rangeEnd: String, startRevision: Int64) -> AsyncThrowingStream<WatchBatch, any Error>
}

public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    public var createRevision: Int64
    public var modRevision: Int64
    public var lease: Int64

    public init(key: String, value: String, createRevision: Int64, modRevision: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.lease = lease
    }
}

public struct RangeResult: Sendable, Equatable {
    public var kvs: [KeyValue]
    /// The store's revision at the time of the read.
    public var revision: Int64
}

/// A transaction: if every comparison holds, run `success`, else `failure`.
public struct Txn: Sendable, Equatable {
    public enum Compare: Sendable, Equatable {
        /// The key's create revision equals the number (0 = the key does not exist).
        case createRevision(String, Int64)
        case modRevision(String, Int64)
        case value(String, String)
        /// The key is attached to this lease (etcd 3.3+).
        case lease(String, Int64)
    }

    public indirect enum Operation: Sendable, Equatable {
        case put(String, String, lease: Int64)
        case delete(String, rangeEnd: String?)
        case range(String)
        case txn(Txn)
    }

    public var compare: [Compare]
    public var success: [Operation]
    public var failure: [Operation]

    public init(compare: [Compare], success: [Operation], failure: [Operation] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

public struct TxnResult: Sendable, Equatable {
    public indirect enum Response: Sendable, Equatable {
        case put
        case delete(deleted: Int64)
        case range([KeyValue])
        case txn(TxnResult)
    }

    public var succeeded: Bool
    public var responses: [Response]
    public var revision: Int64

    public init(succeeded: Bool, responses: [Response], revision: Int64) {
        self.succeeded = succeeded
        self.responses = responses
        self.revision = revision
    }
}

public struct WatchEvent: Sendable, Equatable {
    public var deleted: Bool
    public var kv: KeyValue
}

public struct WatchBatch: Sendable, Equatable {
    public var events: [WatchEvent]
    /// The store revision this batch brings the watcher up to.
    public var revision: Int64
}

/// Why a watch ended: the revision asked for was compacted away, so a full read is needed.
public struct WatchCompacted: Error, Sendable {
    public var compactRevision: Int64
}

extension String {
    /// The end of the range that holds every key with this prefix (etcd's "prefix + 1").
    public var prefixRangeEnd: String {
        var bytes = Array(utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }
}
