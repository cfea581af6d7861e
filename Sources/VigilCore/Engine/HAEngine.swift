/// The decision logic of a Vigil agent: a pure function from what the agent observes to
/// what it should do. No I/O, no clock, no randomness: the same observation always gives
/// the same decision, which is what makes every rule a unit test and the whole cluster
/// simulable (see Patroni's `ha.py` for the behaviour matched, spec §3).
public enum HAEngine {
    public static func decide(_ o: Observation) -> Decision {
        guard case let .reachable(cluster) = o.store else { return storeUnreachable(o) }
        let context = Context(o: o, cluster: cluster)
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
            return context.decision(.busy, "PostgreSQL is stopping")
        case .stopped, .crashed, .uninitialized:
            return recover(context)
        }
        guard let leader = cluster.leader else { return race(context) }
        return leader.name == o.me.name ? leaderCycle(context) : followerCycle(context, leader: leader.name)
    }

    /// Facts derived once per decision.
    struct Context {
        let o: Observation
        let cluster: ClusterState

        var me: String { o.me.name }
        var paused: Bool { o.settings.paused }
        var holdsLock: Bool { cluster.leader?.name == me }

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
            return c.decision(.busy, "releasing the leader key: this node has no data directory", [.releaseLeader])
        }
        if let leader = cluster.leader {
            let source = cloneSource(c, leader: leader.name)
            let role = source == leader.name ? "leader" : "replica"
            return c.decision(.cloning, "trying to bootstrap from \(role) '\(source)'", [.createReplica(from: source)])
        }
        if cluster.initialize == nil, c.o.me.mayRace, c.o.me.canBootstrap, !c.paused {
            return c.decision(.bootstrapping, "trying to bootstrap a new cluster", [
                .claimInitialization, .bootstrap, .recordSystemID, .writeInitialConfig, .acquireLeader, .updateStatus,
            ])
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
                return c.decision(.primaryStartTimedOut,
                                  "released the leader key: PostgreSQL did not come back within primary_start_timeout",
                                  [.releaseLeader, .startPostgres(.replica(following: nil))])
            }
            if o.postgres.status.role == .replica {
                return c.decision(.startingReplica, "starting as readonly because i had the session lock",
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
            return c.decision(.primaryStartTimedOut, "stopped PostgreSQL: it did not start within primary_start_timeout",
                              [.demote(.immediate)])
        }
        let left = o.settings.primaryStartTimeout - elapsed
        return c.decision(.stillStarting, "PostgreSQL is still starting up, \(left.components.seconds) seconds until timeout",
                          [.renewLeader])
    }
}
