/// Why a store call failed, classified so the HA engine can tell "my lease is surely gone"
/// from "I don't know": only a store that answered can say the former.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// No endpoint could be connected to.
        case unreachable
        /// An endpoint accepted the request but no answer came within the deadline; a write
        /// may or may not have been applied.
        case timedOut
        /// The etcd cluster has no raft leader (lost quorum): nothing can be written.
        case noLeader
        /// Wrong user name or password, or a token that could not be renewed.
        case authFailed
        /// The lease named in the request no longer exists (it expired or was revoked).
        case leaseNotFound
        /// etcd refused the request as invalid (a bug on our side, or a permission missing).
        case rejected
        /// The endpoint answered HTTP without an etcd v3 JSON gateway behind it (a wrong address,
        /// or a member answering a bare 404 for a moment while the cluster loses another).
        case notAGateway
        /// An answer that could not be understood.
        case unknown
    }

    public var kind: Kind
    public var message: String
    /// The endpoint the last attempt went to, when there was one.
    public var endpoint: String?

    public init(_ kind: Kind, _ message: String, endpoint: String? = nil) {
        self.kind = kind
        self.message = message
        self.endpoint = endpoint
    }

    public var description: String {
        "etcd \(kind.rawValue)\(endpoint.map { " (\($0))" } ?? ""): \(message)"
    }
}
