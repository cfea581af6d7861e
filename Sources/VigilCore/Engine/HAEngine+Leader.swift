import Foundation

extension HAEngine {
    /// This member holds the leader key and PostgreSQL runs.
    static func leaderCycle(_ c: Context) -> Decision {
        let o = c.o
        if o.lock.lost {
            if o.postgres.isRunningPrimary && !c.paused {
                return c.decision(.demotedLostLock, "demoted self because failed to update leader lock in DCS",
                                  [.demote(.immediateNoLock)])
            }
            return c.decision(.renewingFailed, "not promoting because failed to update leader lock in DCS")
        }
        if let request = c.cluster.failover, !request.value.isEmpty, o.postgres.isRunningPrimary {
            if let decision = switchover(c, request) { return decision }
        }
        if o.postgres.isRunningReplica {
            if c.paused {
                return c.decision(.pausedReplicaWithLock, "no action. I am (\(c.me)), a replica with the lock, and in pause",
                                  [.renewLeader])
            }
            return c.decision(.promotingWithLock, "promoted self to leader because I had the session lock",
                              [.renewLeader] + c.beforePromotion + [.promote, .updateStatus])
        }
        var actions: [Action] = [.renewLeader, .updateStatus]
        if let timeline = o.postgres.status.timeline, timeline > c.cluster.timeline { actions.append(.recordHistory) }
        if c.syncInvolved && !c.paused { actions.append(.manageSync) }
        return c.decision(.leaderWithLock, "no action. I am (\(c.me)), the leader with the lock", actions)
    }

    /// A `failover` key while this member leads: step down for the candidate when one can
    /// take over, or clear the request and say why not. nil: nothing to do now.
    static func switchover(_ c: Context, _ request: Versioned<FailoverRequest>) -> Decision? {
        let o = c.o
        let wanted = request.value
        if let leader = wanted.leader, leader != c.me {
            return c.decision(.switchoverRefused, "cleared a switchover request from \(leader): I am the leader",
                              [.renewLeader, .clearFailover(version: request.version)])
        }
        if wanted.member == c.me {
            return c.decision(.switchoverRefused, "cleared a failover request to myself: I am already the leader",
                              [.renewLeader, .clearFailover(version: request.version)])
        }
        if let scheduledAt = wanted.scheduledAt, let when = ISOTime.parse(scheduledAt) {
            let loopWait = Double(o.settings.timings.loopWait)
            if when - o.wallClock > loopWait {
                return c.decision(.switchoverScheduled, "awaiting the scheduled switchover at \(scheduledAt)",
                                  [.renewLeader, .updateStatus])
            }
            if o.wallClock - when > 1.5 * loopWait {
                return c.decision(.switchoverRefused, "cleared a stale scheduled switchover (\(scheduledAt))",
                                  [.renewLeader, .clearFailover(version: request.version)])
            }
        }
        guard let peers = o.peers else {
            return c.decision(.probingForSwitchover, "checking who can take over before a switchover", [.renewLeader, .probePeers])
        }
        if let sync = c.activeSync, let named = wanted.member, wanted.leader != nil, !c.quorumActive, !sync.matches(named) {
            return c.decision(.switchoverRefused,
                              "cleared a switchover request: candidate \(named) does not match with sync_standbys (\(sync.voters.joined(separator: ",")))",
                              [.renewLeader, .clearFailover(version: request.version)])
        }
        let able = ableToTakeOver(c, peers, named: wanted.member)
        let whom = wanted.member.map { "member \($0)" } ?? "any member"
        guard !able.isEmpty else {
            return c.decision(.switchoverRefused, "cleared a switchover request: \(whom) is not healthy enough to take over",
                              [.renewLeader, .clearFailover(version: request.version)])
        }
        // A fast stop sends everything up to the shutdown checkpoint to the standbys connected at
        // that moment, and only to them: the hand-over loses nothing only when one that may take
        // over streams from this leader now (pg_stat_replication, application_name = member name).
        let streaming = Set(o.postgres.status.replication.filter { $0.state == "streaming" }.map(\.applicationName))
        guard able.contains(where: { streaming.contains($0.name) }) else {
            return c.decision(.switchoverRefused,
                              "cleared a switchover request: \(whom) does not stream from this leader, a hand-over now would lose the writes it has not received",
                              [.renewLeader, .clearFailover(version: request.version)])
        }
        return c.decision(.switchoverDemoting, "manual failover: demoting myself", [.renewLeader, .demote(.graceful)])
    }

    /// Someone else holds the leader key and PostgreSQL runs here.
    static func followerCycle(_ c: Context, leader: String) -> Decision {
        let o = c.o
        if o.postgres.isRunningPrimary {
            if c.paused { return c.decision(.pausedPrimaryWithoutLock, "continue to run as primary without lock") }
            return c.decision(.demotedNotLeader, "demoting self because I do not have the lock and I was a leader",
                              [.demote(.immediateNoLock)])
        }
        if o.postgres.following != leader {
            // A former primary's WAL is checked against the leader's timeline before it streams
            // (the machine then re-points it, or rejoins it: stop, rewind, start): a re-point
            // alone leaves a diverged replica retrying a stream the leader refuses. Only where
            // it could be rewound, and not paused (Patroni rewinds nothing in maintenance mode).
            if o.postgres.mayHaveDiverged, o.settings.usePgRewind, !c.paused {
                return c.decision(.changingLeader, "following new leader (\(leader)) once this node's WAL is checked against its timeline: it ran as a primary",
                                  [.checkTimeline(leader: leader)])
            }
            return c.decision(.changingLeader, "following new leader (\(leader))", [.follow(leader: leader)])
        }
        // Pointed at the leader but not streaming while the leader is on a newer timeline: either
        // the walreceiver has not connected yet (it retries every 5 s, wal_retrieve_retry_interval),
        // or our history forked from the leader's and it never will. After that grace, rejoin:
        // stop, rewind if forked, start streaming.
        if o.postgres.status.replicationState != "streaming",
           let leaderTimeline = c.cluster.leaderMember?.record.timeline,
           leaderTimeline > (o.postgres.status.timeline ?? 0) {
            let grace = Duration.seconds(max(5, o.settings.timings.loopWait))
            if let since = o.postgres.followingSince, o.now - since < grace {
                return c.decision(.waitingForStream, "waiting to stream from leader (\(leader)) on its timeline \(leaderTimeline)")
            }
            return c.decision(.rejoiningLeader, "rejoining leader (\(leader)) on its timeline \(leaderTimeline)",
                              [.rejoin(leader: leader)])
        }
        return c.decision(.followingLeader, "no action. I am (\(c.me)), a secondary, and following a leader (\(leader))")
    }
}
