/// How the cluster replicates, from the `config` key's `synchronous_mode`,
/// `synchronous_mode_strict`, `synchronous_node_count` and `maximum_lag_on_syncnode`.
public struct SyncSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        /// Asynchronous: a commit waits for no standby.
        case off
        /// Priority: `synchronous_standby_names` lists the standbys a commit waits for, and only
        /// those listed in the `sync` key may be promoted (Patroni's `synchronous_mode: on`).
        case priority = "on"
        /// Quorum: a commit waits for any `numsync` of the listed standbys, and a new leader needs
        /// the votes of enough of them (Patroni's `synchronous_mode: quorum`).
        case quorum
    }

    public var mode: Mode
    /// With no standby to wait for, commits wait anyway (`*`) instead of going asynchronous.
    public var strict: Bool
    /// `synchronous_node_count`: how many standbys a commit waits for.
    public var nodeCount: Int
    /// A standby further behind than this (bytes) is not picked as synchronous; ≤ 0: no limit.
    public var maximumLagOnSyncnode: Int64

    public init(mode: Mode = .off, strict: Bool = false, nodeCount: Int = 1, maximumLagOnSyncnode: Int64 = -1) {
        self.mode = mode
        self.strict = strict
        self.nodeCount = nodeCount
        self.maximumLagOnSyncnode = maximumLagOnSyncnode
    }

    public static let off = SyncSettings()

    /// Synchronous replication is asked for (Patroni's is_synchronous_mode).
    public var enabled: Bool { mode != .off }
    public var isQuorum: Bool { mode == .quorum }
    /// Patroni's min_synchronous_nodes: strict mode never lets commits go unconfirmed.
    public var minimumNodes: Int { strict ? 1 : 0 }
    /// Patroni's synchronous_node_count: never below the minimum.
    public var wantedNodes: Int { max(nodeCount, minimumNodes) }
}

