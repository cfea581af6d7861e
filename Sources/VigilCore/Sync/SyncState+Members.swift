/// The `sync` key as Patroni reads it (dcs SyncState): empty without a leader; names compared
/// without case, as PostgreSQL compares standby names.
extension SyncState {
    /// No leader: synchronous replication is not (yet) in force.
    public var isEmpty: Bool { leader == nil }

    /// The standbys listed (empty when the key is empty).
    public var voters: [String] { isEmpty ? [] : syncStandby }

    /// The leader and its standbys.
    public var members: [String] { leader.map { [$0] + syncStandby } ?? [] }

    /// Whether `name` is a listed standby (or, with `includingLeader`, the key's leader).
    public func matches(_ name: String?, includingLeader: Bool = false) -> Bool {
        guard let name, !isEmpty else { return false }
        let wanted = name.lowercased()
        if includingLeader, leader?.lowercased() == wanted { return true }
        return syncStandby.contains { $0.lowercased() == wanted }
    }

    public func leaderMatches(_ name: String?) -> Bool {
        guard let name, let leader else { return false }
        return name.lowercased() == leader.lowercased()
    }
}

extension ClusterState {
    /// Whether the current leader's `sync` key lists `name` as a synchronous standby (Patroni's
    /// is_sync_standby): what a standby about to stop waits to be released from.
    public func listsAsSynchronousStandby(_ name: String) -> Bool {
        guard let leader = leader?.name, let sync = sync?.value else { return false }
        return sync.leaderMatches(leader) && sync.matches(name)
    }
}
