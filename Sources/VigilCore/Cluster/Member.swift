/// A member as read from the store: its name, what it published, and the store's version
/// of that key (etcd's mod revision) with the lease it lives on.
public struct Member: Sendable, Equatable {
    public var name: String
    public var record: MemberRecord
    public var version: Int64
    /// The etcd lease the key is attached to (0 or nil when none).
    public var lease: Int64?

    public init(name: String, record: MemberRecord, version: Int64 = 0, lease: Int64? = nil) {
        self.name = name
        self.record = record
        self.version = version
        self.lease = lease
    }
}

/// The leader key: who holds the lock, on which lease, at which version.
public struct LeaderLock: Sendable, Equatable {
    public var name: String
    public var version: Int64
    public var lease: Int64?

    public init(name: String, version: Int64 = 0, lease: Int64? = nil) {
        self.name = name
        self.version = version
        self.lease = lease
    }
}

/// A value read from the store with the version a compare-and-swap must name to replace it.
public struct Versioned<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var version: Int64

    public init(_ value: Value, version: Int64) {
        self.value = value
        self.version = version
    }
}
