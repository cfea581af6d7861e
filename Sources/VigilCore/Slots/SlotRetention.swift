/// The leader's memory of its members' slots (Patroni's `retain_slots`): when each was last
/// seen with its member key. A member that leaves (its key lapses: a host down for
/// maintenance) keeps its slot on every node for `member_slots_ttl` after that, so it can
/// come back and stream from where it was; after that its slot is dropped and holds no more
/// WAL.
public struct SlotRetention: Sendable, Equatable {
    /// Slot name → when the leader last saw it belong to a member; nil until this leader's
    /// first status write.
    public private(set) var lastSeen: [String: Duration]?

    public init() {}

    /// The list to write after a cycle that published `published` (the leader's own slot and
    /// the managed slots it has), with `cluster`'s members and `permanent` slots' names. A new
    /// leader (or an agent restarted on one) first carries on from the list in the store, each
    /// as if seen now: the retention restarts after a failover rather than dropping slots a
    /// member may still need.
    public mutating func update(published: [String], me: String, cluster: ClusterState, permanent: [String],
                                ttl: Duration, at now: Duration) -> [String] {
        var seen = lastSeen ?? Dictionary((cluster.status?.retainSlots ?? []).map { ($0, now) }, uniquingKeysWith: { a, _ in a })
        var members = Set(cluster.members.filter { !$0.record.nostream }.map { SlotName.forMember($0.name) })
        // Its own member key may not be in the store yet: its slot counts as a member's.
        members.insert(SlotName.forMember(me))
        let permanent = Set(permanent)
        for name in published where members.contains(name) && !permanent.contains(name) { seen[name] = now }
        seen = seen.filter { $0.value + ttl > now }
        lastSeen = seen
        return seen.keys.sorted()
    }
}
