extension HAMachine {
    /// The engine's input: what the shell saw, completed from memory.
    mutating func remember(_ s: Sighting) -> Observation {
        settings = s.settings
        if case let .reachable(cluster) = s.store {
            if cluster.leader?.name != s.me.name, lock.lastConfirmed != nil {
                // Someone else holds the key: this member is not the leader, whatever it last renewed.
                lock = LockState()
            }
            // As Patroni keeps the state of the cluster when it was healthy.
            if cluster.leader != nil, !cluster.members.isEmpty { lastLockedMembers = cluster.members }
        }
        var status = s.postgres
        if status.state != lastState {
            lastState = status.state
            stateSince = s.now
        }
        // The primary's synchronous standbys are remembered only while it runs as primary.
        if status.state == .running, status.role == .primary, let names = status.synchronousStandbyNames {
            sync.saw(names: names, flush: status.walPosition ?? 0)
        } else if status.state != .running || status.role == .replica {
            sync.reset()
        }
        var directory = LocalPostgres.DataDirectory.empty
        var busy = s.busyWith
        if case let .present(fileRole, filesSystemID) = s.dataDirectory {
            // Running but not answering queries: assume the role it last had, so an overloaded
            // primary is still treated as one (and demoted when it must be).
            if status.state != .running || status.role == nil { status.role = lastRole ?? fileRole }
            if status.state == .running, let role = status.role { lastRole = role }
            if status.state != .running { lastRole = nil }
            // A primary's WAL (running, or a stopped directory that would start as one) can go
            // past where a new leader's timeline branches off; it stays suspect until a rejoin.
            if status.role == .primary { mayHaveDiverged = true }
            if let sysid = status.systemIdentifier ?? filesSystemID {
                lastSystemID = sysid
                directory = .initialized(systemID: sysid)
            } else if !s.answering, let sysid = lastSystemID {
                directory = .initialized(systemID: sysid)
            } else {
                busy = busy ?? "reading the data directory"
            }
        }
        var me = s.me
        me.watchdogFailed = watchdogUnusable(deviceUsable: s.watchdogDeviceUsable)
        return Observation(now: s.now, wallClock: s.wallClock, me: me, settings: s.settings, store: s.store,
                           postgres: LocalPostgres(dataDirectory: directory, status: status, following: following,
                                                   followingSince: followingSince, stateSince: stateSince, busyWith: busy,
                                                   answering: s.answering, mayHaveDiverged: mayHaveDiverged),
                           lock: lock, peers: nil)
    }

    /// The `history` key with this node's promotion added as the end of the timeline just below
    /// its own (so the store's count of timelines stays the real one even when this timeline
    /// branched off an older one). nil: nothing to add.
    func historyWithSwitch(_ entry: TimelineDivergence.HistoryEntry?, timeline: Int64) -> [TimelineEvent]? {
        guard let entry, let o = observation else { return nil }
        var history = o.cluster?.history?.value ?? []
        let ended = timeline - 1
        guard !history.contains(where: { $0.timeline >= ended }) else { return nil }
        history.append(TimelineEvent(timeline: ended, lsn: entry.switchpoint, reason: "no recovery target specified",
                                     timestamp: ISOTime.pythonUTC(o.wallClock), newLeader: o.me.name))
        return history
    }
}
