/// One change to synchronous replication, in the order it must be made (add to PostgreSQL
/// first, then to the `sync` key; remove from the key first, then from PostgreSQL).
public enum SyncStep: Sendable, Equatable {
    /// Write the `sync` key (compare-and-swap on the version last read or written); nil deletes it.
    case writeKey(SyncState?)
    /// Set `synchronous_standby_names` to this value (nil: remove it) and reload.
    case setNames(String?)
    /// Back to the node's own `synchronous_standby_names` (synchronous mode is off).
    case restoreConfigured
    /// The standbys just listed need a moment to report as synchronous: look again soon.
    case awaitConfirmation
}

/// Priority mode (`synchronous_mode: on`), Patroni's `_process_multisync_replication`: the
/// `sync` key lists only standbys that are both in `synchronous_standby_names` and confirmed, so
/// a member the key names as promotable has every acknowledged commit.
public enum PrioritySync {
    public static func plan(me: String, picture: SyncPicture, key: SyncState?, settings: SyncSettings) -> [SyncStep] {
        var steps: [SyncStep] = []
        var voters = key?.voters ?? []
        // No key (the mode enabled explicitly, in force even with no standby to pick yet), or one
        // naming another leader: this leader names itself, with no standby.
        if key?.leaderMatches(me) != true {
            steps.append(.writeKey(SyncState(leader: me, syncStandby: [])))
            voters = []
        }
        let picked = picture.active
        let allowed = picture.confirmed
        if same(picked, voters) && !same(voters, allowed) {
            steps.append(.writeKey(SyncState(leader: me, syncStandby: allowed)))
            voters = allowed
        }
        if same(picked, voters) && Set(voters.map { $0.lowercased() }) == picture.sync && picture.numsync == picked.count {
            return steps
        }
        // Whoever leaves the list leaves the key first.
        let common = voters.filter { v in allowed.contains { $0.lowercased() == v.lowercased() } }
        if !same(common, voters) { steps.append(.writeKey(SyncState(leader: me, syncStandby: common))) }
        // Strict: with nobody to wait for, commits wait for anybody rather than for nobody.
        let names = settings.strict && picked.isEmpty ? ["*"] : picked
        steps.append(.setNames(SyncStandbyNames.render(names, quorum: false)))
        if !picked.isEmpty && !same(allowed, picked) {
            steps.append(.awaitConfirmation)
        } else if !allowed.isEmpty && !same(allowed, common) {
            steps.append(.writeKey(SyncState(leader: me, syncStandby: allowed)))
        }
        return steps
    }

    static func same(_ a: [String], _ b: [String]) -> Bool {
        Set(a.map { $0.lowercased() }) == Set(b.map { $0.lowercased() })
    }
}
