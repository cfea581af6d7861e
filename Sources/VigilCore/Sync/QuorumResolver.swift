/// Quorum mode (`synchronous_mode: quorum`), Patroni's QuorumStateResolver: the changes that take
/// `synchronous_standby_names` (`ANY numsync (sync)`) and the `sync` key (`quorum` of `voters`)
/// from where they are to where they should be, one at a time, in an order that keeps the
/// invariant at every step: any set of standbys that can acknowledge a commit overlaps any set
/// of voters a new leader gathers, `quorum + numsync ≥ |voters ∪ sync|` (the leader counted).
/// The goal: `sync = voters = active`, `numsync = min(wanted, |active|)`, `quorum = |active| − numsync`.
struct QuorumResolver {
    enum Transition: Equatable {
        /// Write the `sync` key: leader, quorum, voters.
        case quorum(leader: String, quorum: Int, voters: [String])
        /// Set `synchronous_standby_names` to ANY numsync (names).
        case sync(numsync: Int, names: [String])
        /// Nothing changes until PostgreSQL reports again: stop and look again.
        case restart
    }

    struct Broken: Error { var message: String }

    var leader: String
    var quorum: Int
    var voters: NameSet
    var numsync: Int
    var sync: NameSet
    var numsyncConfirmed: Int
    var active: NameSet
    let syncWanted: Int
    let leaderWanted: String
    /// Whether numsyncConfirmed was observed, or must be estimated (just started leading).
    let confirmationsKnown: Bool
    /// synchronous_standby_names as PostgreSQL ran with it when this run began: commits
    /// acknowledged under it may be only on members a transition of this run drops.
    private let numsyncBefore: Int
    private let syncBefore: NameSet
    private let leaderBefore: String
    private var out: [Transition] = []

    init(leader: String, quorum: Int, voters: [String], numsync: Int, sync: [String], numsyncConfirmed: Int,
         active: [String], syncWanted: Int, leaderWanted: String, confirmationsKnown: Bool = false) {
        self.leader = leader
        self.quorum = quorum
        self.voters = NameSet(voters)
        self.sync = NameSet(sync)
        self.numsync = min(numsync, self.sync.count)
        numsyncBefore = self.numsync
        syncBefore = self.sync
        leaderBefore = leader
        self.numsyncConfirmed = numsyncConfirmed
        self.active = NameSet(active)
        self.syncWanted = syncWanted
        self.leaderWanted = leaderWanted
        self.confirmationsKnown = confirmationsKnown
    }

    /// The transitions, two in a row of the same kind merged into the last (nobody saw the first).
    mutating func transitions() -> [Transition] {
        out = []
        generate()
        var merged: [Transition] = []
        for (i, t) in out.enumerated() {
            if i + 1 < out.count, Self.kind(out[i + 1]) == Self.kind(t) { continue }
            merged.append(t)
            if t == .restart { break }
        }
        return cutBeforeUnsafeKey(merged)
    }

    /// Unlike Patroni 4.1.5: once synchronous_standby_names drops members, a key written after
    /// it in the same run must still meet every commit acknowledged before (any numsyncBefore
    /// of syncBefore): any leader with its quorum of the new voters must include one that
    /// confirmed it, `quorum + numsyncBefore − |syncBefore \ voters| ≥ |voters|`. Otherwise the
    /// key waits for a later cycle, when the standbys left have confirmed the new value
    /// (SyncMemory clears them on such a change). A failover's key is not held back.
    func cutBeforeUnsafeKey(_ transitions: [Transition]) -> [Transition] {
        var dropped = false
        var currentLeader = leaderBefore
        var kept: [Transition] = []
        for t in transitions {
            switch t {
            case let .sync(_, names):
                if !syncBefore.subtracting(NameSet(names)).isEmpty { dropped = true }
            case let .quorum(newLeader, quorum, names):
                let failover = newLeader != currentLeader
                currentLeader = newLeader
                let voters = NameSet(names)
                if dropped, !failover, quorum + numsyncBefore - syncBefore.subtracting(voters).count < voters.count {
                    kept.append(.restart)
                    return kept
                }
            case .restart:
                break
            }
            kept.append(t)
        }
        return kept
    }

    static func kind(_ t: Transition) -> Int {
        switch t {
        case .quorum: 0
        case .sync: 1
        case .restart: 2
        }
    }

    func checkInvariants() throws(Broken) {
        var allVoters = voters
        allVoters.insert(leader)
        var allSync = sync
        allSync.insert(leaderWanted)
        let nodes = allVoters.union(allSync).count
        if !voters.isEmpty && !(nodes <= quorum + numsync + 1) {
            throw Broken(message: "Quorum and sync not guaranteed to overlap: nodes \(nodes) >= quorum \(quorum) + sync \(numsync) + 1")
        }
        if !(allVoters.isSubset(of: allSync) || allSync.isSubset(of: allVoters)) {
            throw Broken(message: "Mismatched sets: voter only=\(allVoters.subtracting(allSync).sorted) sync only=\(allSync.subtracting(allVoters).sorted)")
        }
    }

    /// Returns false when the caller must stop (a restart hint was given).
    @discardableResult
    mutating func quorumUpdate(_ newQuorum: Int, _ newVoters: NameSet, leader newLeader: String? = nil,
                               adjustQuorum: Bool = true) throws(Broken) -> Bool {
        var quorum = newQuorum
        var voters = newVoters
        if quorum < 0 { throw Broken(message: "Quorum \(quorum) < 0 of (\(voters.sorted))") }
        if quorum > 0 && quorum >= voters.count { throw Broken(message: "Quorum \(quorum) >= N of (\(voters.sorted))") }
        let oldLeader = leader
        if let newLeader {
            leader = newLeader
        } else if numsyncConfirmed == 0 && self.voters.isEmpty {
            // Nobody is known to have caught up: the key names no voters yet.
            quorum = 0
            voters = NameSet()
        } else if adjustQuorum {
            // Fewer confirmed than waited for: a race must ask more voters to be sure to find one.
            quorum += max(numsync - numsyncConfirmed, 0)
        }
        if leader == oldLeader && quorum == self.quorum && voters == self.voters {
            if !self.voters.isEmpty { return true }
            out.append(.restart)
        }
        self.quorum = quorum
        self.voters = voters
        try checkInvariants()
        out.append(.quorum(leader: leader, quorum: quorum, voters: voters.sorted))
        return true
    }

    mutating func syncUpdate(_ numsync: Int, _ sync: NameSet) throws(Broken) {
        if numsync < 0 { throw Broken(message: "Sync \(numsync) < 0 of (\(sync.sorted))") }
        if numsync > sync.count { throw Broken(message: "Sync \(numsync) > N of (\(sync.sorted))") }
        self.numsync = numsync
        self.sync = sync
        try checkInvariants()
        out.append(.sync(numsync: numsync, names: sync.sorted))
    }

    /// As Patroni computes the whole list before applying any: a state its rules cannot mend
    /// gives no transition at all (the next cycle starts again from what is).
    mutating func generate() {
        do throws(Broken) {
            do throws(Broken) {
                if leaderWanted != leader {
                    // A failover: the old leader becomes a voter.
                    var newVoters = voters
                    newVoters.remove(leaderWanted)
                    newVoters.insert(leader)
                    if sync.isEmpty { try syncUpdate(newVoters.count - quorum, newVoters) }
                    try quorumUpdate(quorum, newVoters, leader: leaderWanted)
                    // Right after a promotion the replicas may not have reconnected yet.
                    if sync.intersection(active).isEmpty { return }
                } else {
                    try checkInvariants()
                }
            } catch {
                // Broken invariants: mended from what synchronous_standby_names says.
                try quorumUpdate(sync.count - numsync, sync)
            }
            guard leader == leaderWanted else { throw Broken(message: "the sync key's leader is \(leader), not \(leaderWanted)") }
            if numsyncConfirmed == 0 && !confirmationsKnown && !sync.intersection(active).isEmpty {
                numsyncConfirmed = min(sync.intersection(active).count, voters.count - quorum)
            }
            try handleNonSteadyCases()
            try removeGoneNodes()
            try addNewNodes()
            try handleReplicationFactorChange()
        } catch {
            out = []
        }
    }

    mutating func handleNonSteadyCases() throws(Broken) {
        if sync.isStrictSubset(of: voters) {
            // In the middle of changing voters: evict the dead that are not synced.
            let removeFromVoters = voters.subtracting(sync.union(active))
            if !removeFromVoters.isEmpty {
                try quorumUpdate(voters.count - removeFromVoters.count - numsync, voters.subtracting(removeFromVoters),
                                 adjustQuorum: sync.subtracting(active).isEmpty)
            }
            let addToSync = voters.intersection(active).subtracting(sync)
            if !addToSync.isEmpty { try syncUpdate(numsync, sync.union(addToSync)) }
        } else if voters.isStrictSubset(of: sync) {
            // In the middle of changing the replication factor.
            var removeFromSync = sync.subtracting(active)
            let kept = sync.subtracting(removeFromSync)
            if !removeFromSync.isEmpty && !kept.isEmpty && (voters.isEmpty || !kept.intersection(voters).isEmpty) {
                try syncUpdate(min(numsync, sync.count - removeFromSync.count), kept)
            }
            let addToVoters = sync.subtracting(voters).intersection(active)
            if !addToVoters.isEmpty {
                let newVoters = voters.union(addToVoters)
                try quorumUpdate(newVoters.count - numsync, newVoters)
            }
            removeFromSync = sync.subtracting(voters)
            if !removeFromSync.isEmpty {
                try syncUpdate(min(numsync, sync.count - removeFromSync.count), sync.subtracting(removeFromSync))
            }
        }
        guard voters == sync else { throw Broken(message: "voters \(voters.sorted) and sync \(sync.sorted) still differ") }
        var safetyMargin = quorum + min(numsync, numsyncConfirmed) - voters.union(sync).count
        if safetyMargin > 0 {
            if numsync > syncWanted {
                try syncUpdate(max(syncWanted, voters.count - quorum), sync)
            } else {
                try quorumUpdate(sync.count - numsync, voters)
            }
        } else {
            safetyMargin = quorum + numsync - voters.union(sync).count
            if numsync == syncWanted && safetyMargin > 0 && numsync > numsyncConfirmed {
                try quorumUpdate(sync.count - numsync, voters)
            }
        }
    }

    mutating func removeGoneNodes() throws(Broken) {
        var toRemove = sync.subtracting(active)
        if !toRemove.isEmpty && sync == toRemove {
            try quorumUpdate(0, NameSet(), adjustQuorum: false)
            try syncUpdate(0, NameSet())
        } else if !toRemove.isEmpty {
            if quorum > 0 {
                let remove = NameSet(toRemove.sorted.reversed().prefix(quorum))
                let kept = sync.subtracting(remove)
                let numsync = min(syncWanted > self.numsync ? syncWanted : self.numsync, kept.count)
                try syncUpdate(numsync, kept)
                let newVoters = voters.subtracting(remove)
                toRemove = toRemove.intersection(sync)
                try quorumUpdate(newVoters.count - self.numsync, newVoters, adjustQuorum: toRemove.isEmpty)
            }
            if !toRemove.isEmpty {
                guard quorum == 0 else { throw Broken(message: "quorum \(quorum) while removing \(toRemove.sorted)") }
                let numsync = self.numsync - toRemove.count
                let kept = sync.subtracting(toRemove)
                let newVoters = voters.subtracting(toRemove)
                let syncDecrease = numsync - min(syncWanted, kept.count)
                let quorum = syncDecrease != 0 ? min(syncDecrease, newVoters.count - 1) : 0
                try quorumUpdate(quorum, newVoters, adjustQuorum: false)
                try syncUpdate(numsync, kept)
            }
        }
    }

    mutating func addNewNodes() throws(Broken) {
        var toAdd = active.subtracting(sync)
        guard !toAdd.isEmpty else { return }
        let wanted = min(syncWanted, sync.union(toAdd).count)
        var increaseBy = wanted - numsync
        if increaseBy > 0 {
            let add: NameSet
            if !sync.isEmpty {
                add = NameSet(toAdd.sorted.prefix(increaseBy))
                increaseBy = add.count
            } else {
                add = toAdd  // only the leader so far: all may be added at once
            }
            try syncUpdate(numsync + increaseBy, sync.union(add))
            let newVoters = voters.union(add)
            try quorumUpdate(newVoters.count - wanted, newVoters)
            toAdd = toAdd.subtracting(sync)
        }
        if !toAdd.isEmpty {
            let newVoters = voters.union(toAdd)
            try quorumUpdate(newVoters.count - wanted, newVoters, adjustQuorum: wanted > numsyncConfirmed)
            try syncUpdate(wanted, sync.union(toAdd))
        }
    }

    mutating func handleReplicationFactorChange() throws(Broken) {
        let increase = min(syncWanted, sync.count) - numsync
        if increase > 0 {
            try syncUpdate(numsync + increase, sync)
            try quorumUpdate(voters.count - numsync, voters)
        } else if increase < 0 {
            if quorum - increase < voters.count {
                try quorumUpdate(voters.count - numsync - increase, voters, adjustQuorum: syncWanted > numsyncConfirmed)
            }
            try syncUpdate(numsync + increase, sync)
        }
    }
}
