extension HAEngine {
    /// No leader key and PostgreSQL runs: take the key if this member is the healthiest.
    static func race(_ c: Context) -> Decision {
        let o = c.o
        let cluster = c.cluster
        let candidate = cluster.failover.flatMap { $0.value.member }
        let failoverVersion = cluster.failover.map(\.version)
        let clearRequest: [Action] = failoverVersion.map { _ in [.clearFailover(version: nil)] } ?? []
        if c.paused {
            if o.postgres.isRunningPrimary {
                return c.decision(.reacquiredLock, "acquired session lock as a leader", [.acquireLeader, .updateStatus])
            }
            // In pause only a manual failover's named candidate races (spec 3.11), and not while
            // a primary still runs (in pause nothing demotes it).
            if candidate == c.me, !o.me.nofailover, cluster.failover?.value.scheduledAt == nil {
                guard let peers = o.peers else {
                    return c.decision(.racing, "no leader: asking the other members before taking over", [.probePeers])
                }
                if let primary = peers.first(where: { $0.reachable && !$0.inRecovery }) {
                    return c.decision(.primaryStillAlive, "not taking over: Primary (\(primary.name)) is still alive")
                }
                return c.decision(.promotedByRace, "promoted self to leader by acquiring session lock",
                                  [.acquireLeader] + clearRequest + c.beforePromotion + [.promote, .updateStatus])
            }
            return c.decision(.pausedNoRace, "no action. I am (\(c.me)), a secondary, and there is no leader")
        }

        if o.postgres.isRunningPrimary {
            // A primary whose lease lapsed may take the key back, unless a newer timeline exists:
            // in the store's history, or on a peer promoted meanwhile whose history the store
            // lost (the store failed before its next cycle wrote it).
            let mine = o.postgres.status.timeline ?? 0
            if cluster.history != nil, mine < cluster.timeline {
                return c.decision(.demotedOldTimeline, "demoting self because I am not the healthiest node",
                                  [.demote(.immediateNoLock)])
            }
            guard let peers = o.peers else {
                return c.decision(.racing, "no leader: asking the other members before taking the key back", [.probePeers])
            }
            if let newer = peers.first(where: { $0.reachable && ($0.timeline ?? 0) > mine }) {
                return c.decision(.demotedOldTimeline,
                                  "demoting self because I am not the healthiest node (\(newer.name) is on timeline \(newer.timeline ?? 0))",
                                  [.demote(.immediateNoLock)])
            }
            return c.decision(.reacquiredLock, "acquired session lock as a leader", [.acquireLeader, .updateStatus] + clearRequest)
        }
        if o.me.watchdogFailed && candidate != c.me {
            return c.decision(.notAllowedToPromote,
                              "following a different leader because the watchdog this member requires is not usable (watchdog_failed)")
        }
        if !o.me.mayRace && candidate != c.me {
            return c.decision(.notAllowedToPromote, "following a different leader because I am not allowed to promote")
        }
        // In synchronous mode only the standbys the sync key lists have every acknowledged
        // commit: a switchover never goes elsewhere (an operator's failover may, on purpose), and
        // in priority mode nobody else races at all.
        let sync = c.activeSync
        if let sync, !sync.matches(c.me, includingLeader: true) {
            let switchover = cluster.failover?.value.leader != nil
            if switchover || !c.quorumActive && candidate != c.me {
                return c.decision(.notSynchronous,
                                  "following a different leader because I am not a synchronous standby (sync_standby: \(sync.voters.joined(separator: ",")))")
            }
        }
        if candidate == c.me {
            return c.decision(.promotedByRace, "promoted self to leader by acquiring session lock",
                              [.acquireLeader] + clearRequest + c.beforePromotion + [.promote, .updateStatus])
        }
        let myWAL = o.postgres.walPosition
        if let optime = cluster.status?.optime, WALDistance.behind(optime, myWAL) > o.settings.maximumLagOnFailover {
            return c.decision(.notHealthiest,
                              "following a different leader because i am not the healthiest node (lagging \(WALDistance.behind(optime, myWAL)) bytes behind the last known primary position)")
        }
        if o.settings.checkTimeline, cluster.history != nil, (o.postgres.status.timeline ?? 0) < cluster.timeline {
            return c.decision(.notHealthiest, "following a different leader because i am not the healthiest node (old timeline)")
        }
        guard let peers = o.peers else {
            return c.decision(.racing, "no leader: asking the other members before racing", [.probePeers])
        }
        if let candidate, let named = peers.first(where: { $0.name == candidate }), named.reachable, named.inRecovery {
            return c.decision(.deferringToCandidate, "following a different leader because \(candidate) was asked to take over")
        }
        // The leader a switchover asked to step down does not take the key back while another
        // member can have it (as Patroni's manual_failover_process_no_leader), and the others do
        // not defer to it.
        // It stepped down after sending its shutdown checkpoint to the standbys streaming from
        // it, so it defers only to one that has all of its WAL: a hand-over whose candidate fell
        // away (hung, gone) loses nothing. The others do not wait for it when it is level with
        // them (it waits for them), only when it is ahead.
        let formerLeader = cluster.failover.flatMap { $0.value.leader }
        if formerLeader == c.me {
            if ableToTakeOver(c, peers).contains(where: { $0.walPosition >= myWAL }) {
                return c.decision(.askedToStepDown, "following a different leader because I was asked to step down by a switchover")
            }
        }
        // Quorum mode: the voters that are not ahead vote for this member; enough of them prove
        // that one of those that confirmed the last acknowledged commit is not ahead of it.
        var votes = sync?.matches(c.me, includingLeader: true) == true ? 0 : -1
        var ahead = 0
        for peer in peers where Candidacy.refusal(peer) == nil {
            if !peer.inRecovery {
                return c.decision(.primaryStillAlive, "following a different leader because Primary (\(peer.name)) is still alive")
            }
            // In synchronous mode only the members the sync key names are compared with.
            if let sync, !sync.matches(peer.name, includingLeader: true) { continue }
            if peer.name == formerLeader && peer.walPosition <= myWAL { continue }
            if peer.walPosition > myWAL {
                ahead += 1
                // The former leader may be ahead by commits no standby confirmed: never acknowledged.
                if sync?.leaderMatches(peer.name) == true { continue }
                return c.decision(.notHealthiest, "following a different leader because i am not the healthiest node (\(peer.name) is ahead)")
            }
            guard peer.walPosition > 0 else { continue }
            let voter = sync?.matches(peer.name, includingLeader: true) == true
            if peer.walPosition == myWAL, peer.failoverPriority > o.me.failoverPriority, sync?.leaderMatches(peer.name) != true,
               !c.quorumActive || voter {
                return c.decision(.notHealthiest, "following a different leader because \(peer.name) has a higher failover_priority")
            }
            if c.quorumActive && voter { votes += 1 }
        }
        if c.quorumActive, let sync, votes < Int(sync.quorum ?? 0), !(ahead == 0 && sync.leaderMatches(c.me)) {
            let quorum = sync.quorum ?? 0
            return c.decision(.notHealthiest,
                              "following a different leader because i am not the healthiest node (quorum requirement \(quorum) can not be reached)")
        }
        return c.decision(.promotedByRace, "promoted self to leader by acquiring session lock",
                          [.acquireLeader] + clearRequest + c.beforePromotion + [.promote, .updateStatus])
    }
}
