/// What a leader does about synchronous replication in a cycle (Patroni's
/// `process_sync_replication`), and before it promotes (`process_sync_replication_prepromote`).
/// Pure: the machine turns the steps into the shell's.
public enum SyncReplication {
    /// What the leader sees: its PostgreSQL and the store.
    struct Facts: Sendable {
        var me: String
        var settings: SyncSettings
        var loopWait: Duration
        var cluster: ClusterState
        var status: PostgresStatus
    }

    /// The running primary's cycle: keep `synchronous_standby_names` and the `sync` key in step
    /// with the standbys that stream, or turn synchronous replication off.
    static func manage(_ f: Facts, memory: inout SyncMemory, now: Duration) -> [SyncStep] {
        let key = f.cluster.sync?.value
        guard f.settings.enabled else { return disable(key: key, managed: f.status.syncNamesManaged) }
        let picture = memory.picture(me: f.me, replication: f.status.replication, members: f.cluster.members, syncKey: key,
                                     settings: f.settings, synchronousCommit: f.status.synchronousCommit,
                                     primaryFlush: f.status.walPosition ?? 0)
        guard f.settings.isQuorum else { return PrioritySync.plan(me: f.me, picture: picture, key: key, settings: f.settings) }
        // Quorum: the first cycle as leader acts at once; then nothing for loop_wait, so the
        // standbys reconnect before the voters are changed (Patroni's _promote_timestamp).
        let first = memory.managingSince == nil
        memory.startManaging(at: now)
        if !first, let since = memory.managingSince, now - since <= f.loopWait { return [] }
        // Who confirmed is observed from the second look on; the first estimates it from the key.
        return QuorumSync.plan(me: f.me, picture: picture, key: key, settings: f.settings, confirmationsKnown: !first)
    }

    /// Before a promotion (and after a bootstrap): the new primary names itself in the `sync`
    /// key and starts with the fewest standbys it may (strict: any one), so it neither waits
    /// for standbys of the old primary nor acknowledges commits unconfirmed in strict mode. In
    /// quorum mode it keeps the voters, who all have its acknowledged commits.
    public static func beforePromotion(me: String, settings: SyncSettings, key: SyncState?, managed: Bool) -> [SyncStep] {
        guard settings.enabled else { return disable(key: key, managed: managed) }
        if settings.isQuorum, let key, !key.isEmpty {
            var sync = NameSet(key.members)
            var numsync = sync.count - Int(key.quorum ?? 0) - 1
            if sync.contains(me) { sync.remove(me) } else { numsync += 1 }
            // Unlike Patroni 4.1.5, the key names this member as its leader before it promotes
            // (the voters and quorum are kept: the key the next cycle would write). Otherwise a
            // store lost before that next cycle leaves the former leader named there, and the
            // former leader may race without votes: a restarted one that sees nobody (member
            // keys lapsed) would lead without the commits this member acknowledged. The write
            // compares the version read this cycle; losing it postpones the promotion.
            return [.setNames(SyncStandbyNames.render(sync.sorted, num: numsync, quorum: true)),
                    .writeKey(SyncState(leader: me, quorum: key.quorum ?? 0, syncStandby: sync.sorted))]
        }
        return [.writeKey(SyncState(leader: me, quorum: 0, syncStandby: [])),
                .setNames(SyncStandbyNames.render([], num: settings.minimumNodes, quorum: settings.isQuorum))]
    }

    /// Synchronous mode is off: the `sync` key goes, the node's own setting comes back.
    static func disable(key: SyncState?, managed: Bool) -> [SyncStep] {
        var steps: [SyncStep] = []
        if let key, !key.isEmpty { steps.append(.writeKey(nil)) }
        if managed { steps.append(.restoreConfigured) }
        return steps
    }

    /// Whether `name` is a synchronous (or quorum) standby of the current leader, as the REST
    /// API and `patronictl list` say (Patroni: a replica listed in the `sync` key, the mode on).
    public static func isListedStandby(_ name: String, in cluster: ClusterState?, mode: SyncSettings.Mode) -> Bool {
        guard mode != .off, let cluster, let sync = cluster.sync?.value else { return false }
        return sync.matches(name)
    }
}

/// Quorum mode's cycle, Patroni's `_process_quorum_replication`.
enum QuorumSync {
    static func plan(me: String, picture: SyncPicture, key: SyncState?, settings: SyncSettings,
                     confirmationsKnown: Bool) -> [SyncStep] {
        var steps: [SyncStep] = []
        var key = key ?? SyncState(leader: nil, syncStandby: [])
        if key.isEmpty {
            key = SyncState(leader: me, quorum: 0, syncStandby: [])
            steps.append(.writeKey(key))
        }
        guard let leader = key.leader else { return steps }
        var resolver = QuorumResolver(leader: leader, quorum: Int(key.quorum ?? 0), voters: key.voters,
                                      numsync: picture.numsync, sync: picture.syncNames, numsyncConfirmed: picture.confirmed.count,
                                      active: picture.active, syncWanted: settings.wantedNodes, leaderWanted: me,
                                      confirmationsKnown: confirmationsKnown)
        for transition in resolver.transitions() {
            switch transition {
            case let .quorum(leader, quorum, voters):
                steps.append(.writeKey(SyncState(leader: leader, quorum: Int64(quorum), syncStandby: voters)))
            case let .sync(numsync, names):
                // Strict: with too few standbys commits wait rather than go unconfirmed.
                steps.append(.setNames(SyncStandbyNames.render(names, num: max(numsync, settings.minimumNodes), quorum: true)))
            case .restart:
                steps.append(.awaitConfirmation)
            }
        }
        return steps
    }
}
