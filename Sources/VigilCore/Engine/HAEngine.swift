/// The decision logic of a Vigil agent: a pure function from what the agent observes to
/// what it should do. No I/O, no clock, no randomness: the same observation always gives
/// the same decision, which is what makes every rule a unit test and the whole cluster
/// simulable (see Patroni's `ha.py` for the behaviour matched, spec §3).
public enum HAEngine {
    public static func decide(_ o: Observation) -> Decision {
        guard case let .reachable(cluster) = o.store else { return storeUnreachable(o) }
        let context = Context(o: o, cluster: cluster)
        // Before anything the shell is busy with: no step may renew the key for a server that
        // did not answer.
        if o.postgres.isRunning && !o.postgres.answering { return unresponsive(context) }
        if let busy = o.postgres.busyWith {
            return context.holdsLock
                ? context.decision(.busy, "updated leader lock during \(busy)", [.renewLeader])
                : context.decision(.busy, "\(busy) in progress")
        }
        guard case let .initialized(systemID) = o.postgres.dataDirectory else { return bootstrapOrClone(context) }
        if let initialize = cluster.initialize, !initialize.isEmpty, initialize != systemID {
            return context.decision(.systemIDMismatch,
                                    "system ID mismatch: this node's data directory (\(systemID)) is not of the cluster in the store (\(initialize))",
                                    [.exit("system ID mismatch")])
        }
        if cluster.initialize == nil, cluster.isUnlocked, !o.settings.paused, !o.postgres.isRunningReplica {
            return context.decision(.adoptingCluster, "adopting the existing data directory as the cluster (system ID \(systemID))",
                                    [.recordSystemID])
        }
        switch o.postgres.status.state {
        case .running:
            break
        case .starting:
            return starting(context)
        case .stopping:
            return context.decision(.postgresStopping, "PostgreSQL is stopping")
        case .stopped, .crashed, .uninitialized:
            return recover(context)
        }
        guard let leader = cluster.leader else { return race(context) }
        return leader.name == o.me.name ? leaderCycle(context) : followerCycle(context, leader: leader.name)
    }

    /// How long the shell waits for an immediate stop before it kills the postmaster and its
    /// backends (SIGQUIT ends a server in milliseconds, or a hung one never).
    public static let immediateStopBudget = Duration.seconds(2)
    /// What a demotion of a server that does not answer may take: the stop, the kill, and a
    /// second for the store.
    public static let unresponsiveDemotionBudget = immediateStopBudget + .seconds(1)

    /// PostgreSQL runs but did not answer (overloaded, hung, out of connections). Nothing seen
    /// this cycle proves it healthy, so the leader key is not renewed (Patroni: "Error
    /// communicating with PostgreSQL"); a leader whose lease would end before its next cycle
    /// stops PostgreSQL and hands the key over rather than risk writes after the lease. A
    /// primary without the key is demoted; nobody races.
    static func unresponsive(_ c: Context) -> Decision {
        let o = c.o
        let waiting = "Error communicating with PostgreSQL. Will try again later"
        if c.holdsLock {
            // The next chance to renew is the next cycle's observation, about loop_wait from this
            // one (which has already waited out its queries' timeout); a demotion decided then
            // must still be done before the lease ends.
            let next = o.now + .seconds(o.settings.timings.loopWait) + unresponsiveDemotionBudget
            let until = o.lock.validUntil(ttl: o.settings.ttl)
            if !c.paused, until.map({ $0 <= next }) ?? true {
                return c.decision(.demotedUnresponsive,
                                  "demoting self because PostgreSQL does not answer and the leader lock expires before the next cycle",
                                  [.demote(.immediate)])
            }
            return c.decision(.postgresUnresponsive, "\(waiting) (leader lock not renewed)")
        }
        if o.postgres.isRunningPrimary && !c.paused {
            if let leader = c.cluster.leader { return followerCycle(c, leader: leader.name) }
            // Its lease lapsed while it stopped answering: it cannot prove itself fit to take the
            // key back, and must not take writes without it. Restarted as a replica, it races
            // like any other (its WAL is kept, so it wins when it is the most advanced).
            return c.decision(.demotedUnresponsive,
                              "demoting self because PostgreSQL does not answer and nobody holds the leader lock",
                              [.demote(.immediateNoLock)])
        }
        return c.decision(.postgresUnresponsive, waiting)
    }

    /// Facts derived once per decision.
    struct Context {
        let o: Observation
        let cluster: ClusterState

        var me: String { o.me.name }
        var paused: Bool { o.settings.paused }
        var holdsLock: Bool { cluster.leader?.name == me }

        /// The `sync` key, when synchronous mode is on and a leader has put its name in it
        /// (Patroni's sync_mode_is_active): only then does it restrict who may lead.
        var activeSync: SyncState? {
            guard o.settings.sync.enabled, let sync = cluster.sync?.value, !sync.isEmpty else { return nil }
            return sync
        }
        var quorumActive: Bool { o.settings.sync.isQuorum && activeSync != nil }

        /// Whether a leader has synchronous replication to look after: the mode is on, or a
        /// `sync` key or Vigil's own synchronous_standby_names is left over from when it was.
        var syncInvolved: Bool {
            o.settings.sync.enabled || !(cluster.sync?.value.isEmpty ?? true) || o.postgres.status.syncNamesManaged
        }

        /// `.prepareSync` before a promotion, when synchronous replication is involved.
        var beforePromotion: [Action] { syncInvolved ? [.prepareSync] : [] }

        func decision(_ reason: Reason, _ summary: String, _ actions: [Action] = []) -> Decision {
            Decision(reason, (paused ? "PAUSE: " : "") + summary, actions)
        }
    }

    // MARK: Store unreachable

    static func storeUnreachable(_ o: Observation) -> Decision {
        if o.postgres.isRunningPrimary && !o.settings.paused {
            return Decision(.demotedStoreUnreachable, "demoted self because DCS is not accessible and I was a leader",
                            [.demote(.offline)])
        }
        return Decision(.storeUnreachable, (o.settings.paused ? "PAUSE: " : "") + "DCS is not accessible")
    }

    // MARK: No data yet

    static func bootstrapOrClone(_ c: Context) -> Decision {
        let cluster = c.cluster
        if c.holdsLock {
            return c.decision(.releasingLockWithoutData, "releasing the leader key: this node has no data directory", [.releaseLeader])
        }
        if let leader = cluster.leader {
            let source = cloneSource(c, leader: leader.name)
            let role = source == leader.name ? "leader" : "replica"
            return c.decision(.cloning, "trying to bootstrap from \(role) '\(source)'", [.createReplica(from: source)])
        }
        if cluster.initialize == nil, c.o.me.mayRace, c.o.me.canBootstrap, !c.paused {
            // In synchronous mode the new primary names itself in the sync key at once (strict:
            // commits wait for a standby from the first one on).
            return c.decision(.bootstrapping, "trying to bootstrap a new cluster", [
                .claimInitialization, .bootstrap, .recordSystemID, .writeInitialConfig, .acquireLeader,
            ] + c.beforePromotion + [.updateStatus])
        }
        return c.decision(.waitingForLeaderToBootstrap, "waiting for leader to bootstrap")
    }

    static func cloneSource(_ c: Context, leader: String) -> String {
        cloneSource(in: c.cluster, for: c.me, leader: leader)
    }

    /// Where `me` copies its data from: a running member tagged `clonefrom`, else the leader
    /// (Patroni's choice, for a new replica and for `POST /reinitialize`).
    public static func cloneSource(in cluster: ClusterState, for me: String, leader: String) -> String {
        cluster.members.first { $0.name != me && $0.record.clonefrom && $0.record.state == "running" }?.name ?? leader
    }

    // MARK: PostgreSQL not running

    static func recover(_ c: Context) -> Decision {
        let o = c.o
        if c.paused {
            return c.holdsLock
                ? c.decision(.pausedPostgresStopped, "postgres is not running; released the leader key", [.releaseLeader])
                : c.decision(.pausedPostgresStopped, "postgres is not running")
        }
        if c.holdsLock && !o.lock.lost {
            if case .crashed = o.postgres.status.state, o.now - o.postgres.stateSince >= o.settings.primaryStartTimeout {
                // Else restarted in place below.
                if let handOver = handOver(c, when: "after a crash", c.decision(.primaryStartTimedOut,
                    "released the leader key: PostgreSQL did not come back within primary_start_timeout",
                    [.releaseLeader, .startPostgres(.replica(following: nil))])) {
                    return handOver
                }
            }
            if o.postgres.status.role == .replica {
                return c.decision(.startingReadOnlyWithLock, "starting as readonly because i had the session lock",
                                  [.renewLeader, .startPostgres(.replica(following: nil))])
            }
            return c.decision(.restartingPrimary, "starting primary after failure", [.renewLeader, .startPostgres(.primary)])
        }
        if let leader = c.cluster.leader, leader.name != c.me {
            return c.decision(.startingReplica, "starting as a secondary", [.rejoin(leader: leader.name)])
        }
        return c.decision(.startingReplica, "starting as a secondary", [.startPostgres(.replica(following: nil))])
    }

    static func starting(_ c: Context) -> Decision {
        let o = c.o
        guard c.holdsLock else { return c.decision(.stillStarting, "PostgreSQL is still starting up") }
        let elapsed = o.now - o.postgres.stateSince
        if elapsed > o.settings.primaryStartTimeout {
            if let handOver = handOver(c, when: "from a slow start", c.decision(.primaryStartTimedOut,
                "stopped PostgreSQL: it did not start within primary_start_timeout", [.demote(.immediate)])) {
                return handOver
            }
            return c.decision(.stillStarting, "PostgreSQL is still starting up, past primary_start_timeout: no replica can take over",
                              [.renewLeader])
        }
        let left = o.settings.primaryStartTimeout - elapsed
        return c.decision(.stillStarting, "PostgreSQL is still starting up, \(left.components.seconds) seconds until timeout",
                          [.renewLeader])
    }

    /// Past primary_start_timeout a primary gives up the key only for a replica that can take
    /// over: the peers are asked first, then `handOver` is the decision. nil: nobody can.
    static func handOver(_ c: Context, when: String, _ handOver: Decision) -> Decision? {
        guard let peers = c.o.peers else {
            return c.decision(.probingForHandOver, "checking whether a replica can take over \(when)", [.renewLeader, .probePeers])
        }
        return ableToTakeOver(c, peers).isEmpty ? nil : handOver
    }

    /// The peers that could lead instead of this member: reachable replicas allowed to promote,
    /// no further behind the last known primary position than `maximum_lag_on_failover`, and
    /// the named one only when a request names one (Patroni's is_failover_possible).
    ///
    /// In synchronous mode only the standbys the `sync` key lists have every acknowledged commit:
    /// no one else takes over unless an operator's failover (no leader named) asks for it. In
    /// quorum mode enough of them must be able to vote for the new leader (Patroni's quorum check).
    static func ableToTakeOver(_ c: Context, _ peers: [PeerStatus], named: String? = nil) -> [PeerStatus] {
        let optime = c.cluster.status?.optime ?? c.o.postgres.walPosition
        var peers = peers
        let request = c.cluster.failover?.value
        if let sync = c.activeSync, !(request.map { !$0.isEmpty && $0.leader == nil } ?? false) {
            peers = peers.filter { sync.matches($0.name) }
        }
        let able = Candidacy.able(peers, .init(named: named, lag: (optime, c.o.settings.maximumLagOnFailover), replicaOnly: true))
        if c.quorumActive, named == nil, let quorum = c.activeSync?.quorum, able.count - 1 < Int(quorum) { return [] }
        return able
    }
}
