/// Which replication slots a node keeps and the changes that get it there, by Patroni 4's
/// rules (`get_replication_slots`, `sync_replication_slots`), so a failover finds every slot
/// a member or a consumer streams through already on the new primary, and no slot that
/// nobody needs holds WAL until the disk is full.
public enum SlotPlan {
    /// A slot this node should have.
    public struct Wanted: Sendable, Equatable {
        public var name: String
        public var kind: PermanentSlot.Kind
        /// Where the leader's copy is (the `status` key's `slots`): an inactive copy is
        /// advanced to it, so it holds no more WAL than the leader's does.
        public var lsn: Int64?
        /// Whether something streams through it on this node. A slot nobody streams from
        /// here (every copy on a replica) is advanced by the agent instead.
        public var expectedActive: Bool

        public init(name: String, kind: PermanentSlot.Kind = .physical, lsn: Int64? = nil, expectedActive: Bool) {
            self.name = name
            self.kind = kind
            self.lsn = lsn
            self.expectedActive = expectedActive
        }
    }

    /// Who is asking, and what the store says.
    public struct Facts: Sendable {
        public var me: String
        /// Whether this node is the cluster's primary (it holds the leader key).
        public var leading: Bool
        public var nofailover: Bool
        public var cluster: ClusterState
        public var settings: SlotSettings
        public var paused: Bool

        public init(me: String, leading: Bool, nofailover: Bool, cluster: ClusterState, settings: SlotSettings, paused: Bool) {
            self.me = me
            self.leading = leading
            self.nofailover = nofailover
            self.cluster = cluster
            self.settings = settings
            self.paused = paused
        }
    }

    /// The slots `facts.me` should have, by name.
    public static func wanted(_ facts: Facts) -> [String: Wanted] {
        let settings = facts.settings
        guard settings.useSlots else { return [:] }
        let cluster = facts.cluster
        let mine = SlotName.forMember(facts.me)
        let known = Set(cluster.members.map(\.name))
        let leaderSlots = Dictionary(cluster.status?.slots.map { ($0.name, $0.lsn) } ?? [], uniquingKeysWith: { a, _ in a })
        func upstream(_ member: Member) -> String? { member.record.tag("replicatefrom")?.stringValue }
        // Whether `member` streams from this node: from the primary unless it cascades from a
        // member that exists; from a replica only when it cascades from it.
        func streamsFromMe(_ member: Member) -> Bool {
            if facts.leading {
                guard let from = upstream(member) else { return true }
                return from == facts.me || !known.contains(from)
            }
            return upstream(member) == facts.me && member.name != cluster.leader?.name
        }
        var members = cluster.members.filter { $0.name != facts.me && !$0.record.nostream }
        if settings.memberSlotsTTL > .zero {
            // Every member's slot is kept everywhere (so the next primary has them all), except
            // on a node that can never lead: it keeps only those that cascade from it.
            members = members.filter { !facts.nofailover || upstream($0) == facts.me }
        } else {
            members = members.filter(streamsFromMe)
        }
        var wanted: [String: Wanted] = [:]
        for member in members {
            let name = SlotName.forMember(member.name)
            var lsn = leaderSlots[name] ?? 0
            // A cascading member does not stream through the leader's copy: its own position is
            // the better measure of what it still needs.
            if upstream(member) != nil { lsn = max(lsn, member.record.xlogLocation ?? 0) }
            wanted[name] = Wanted(name: name, lsn: lsn, expectedActive: streamsFromMe(member))
        }
        if !facts.nofailover {
            // A departed member's slot, kept by the leader's retention (`retain_slots`).
            for name in cluster.status?.retainSlots ?? [] where wanted[name] == nil && name != mine {
                wanted[name] = Wanted(name: name, expectedActive: false)
            }
            for slot in settings.permanent where PermanentSlot.isValidName(slot.name) && slot.name != mine && wanted[slot.name] == nil {
                wanted[slot.name] = Wanted(name: slot.name, kind: slot.kind, lsn: leaderSlots[slot.name],
                                           expectedActive: facts.leading)
            }
        }
        return wanted
    }

    /// The changes that take `existing` to `wanted`. Physical slots are created and advanced;
    /// logical ones are kept where they exist (copying them to replicas needs a restart Vigil
    /// does not make yet). A slot nobody wants goes unless it is ignored or the cluster is
    /// paused (an operator's hands are on it); so does one whose WAL is already gone, and an
    /// inactive copy that holds an xmin (a hot standby's feedback it no longer needs).
    ///
    /// Without `use_slots` nothing is touched: the slots are the operator's (Patroni would drop
    /// every slot it does not ignore, a surprise for whoever turned slots off to manage them).
    public static func changes(_ facts: Facts, existing: [ReplicationSlot]) -> [SlotChange] {
        guard facts.settings.useSlots else { return [] }
        let wanted = wanted(facts)
        var changes: [SlotChange] = []
        for slot in existing.sorted(by: { $0.name < $1.name }) {
            let ignored = facts.settings.ignores(slot)
            guard let want = wanted[slot.name] else {
                if !ignored && !facts.paused { changes.append(.drop(slot.name)) }
                continue
            }
            switch want.kind {
            case .logical(let database, let plugin):
                if slot.type != "logical" || slot.database != database || slot.plugin != plugin { changes.append(.drop(slot.name)) }
                continue
            case .physical:
                if slot.type != "physical" { changes.append(.drop(slot.name)); continue }
            }
            if slot.walStatus == "lost" {
                if !ignored && !facts.paused { changes.append(.drop(slot.name)) }
                continue
            }
            guard !want.expectedActive else { continue }
            guard let restart = slot.restartLSN, !slot.holdsXmin else {
                if !slot.active { changes.append(.drop(slot.name)) }
                continue
            }
            if let target = want.lsn, target > restart { changes.append(.advance(slot.name, to: target)) }
        }
        let present = Set(existing.map(\.name))
        for want in wanted.values.sorted(by: { $0.name < $1.name }) where want.kind == .physical && !present.contains(want.name) {
            changes.append(.create(want.name))
        }
        return changes
    }

    /// What the leader writes in the `status` key's `slots`: where each of its managed
    /// physical slots is (replicas advance their copies to it) and its own slot at its WAL
    /// position (the slot the next primary keeps for it). With `member_slots_ttl` 0 only the
    /// permanent slots, as Patroni does.
    public static func published(_ facts: Facts, existing: [ReplicationSlot], walPosition: Int64?) -> [(name: String, lsn: Int64)] {
        guard facts.settings.useSlots else { return [] }
        let wanted = wanted(facts)
        let permanent = Set(facts.settings.permanent.map(\.name))
        let keepMembers = facts.settings.memberSlotsTTL > .zero
        var published: [(name: String, lsn: Int64)] = []
        for slot in existing where slot.type == "physical" && wanted[slot.name] != nil {
            guard keepMembers || permanent.contains(slot.name), let lsn = slot.restartLSN else { continue }
            published.append((slot.name, lsn))
        }
        if keepMembers, let walPosition { published.append((SlotName.forMember(facts.me), walPosition)) }
        return published.sorted { $0.name < $1.name }
    }
}

/// One change to the local PostgreSQL's replication slots.
public enum SlotChange: Sendable, Equatable {
    /// A physical slot, reserving WAL from now on.
    case create(String)
    /// Only when no one streams through it (an active slot is left for the next cycle).
    case drop(String)
    /// An inactive physical slot moved forward (never past what this server has).
    case advance(String, to: Int64)
}
