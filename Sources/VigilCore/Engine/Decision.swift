/// The engine's answer: what to do, why (a stable code), and the one line an operator reads
/// in the log, in Patroni's words.
public struct Decision: Sendable, Equatable {
    public var actions: [Action]
    public var reason: Reason
    public var summary: String

    public init(_ reason: Reason, _ summary: String, _ actions: [Action] = []) {
        self.actions = actions
        self.reason = reason
        self.summary = summary
    }
}

/// Why a decision was made: one code for one situation, stable across versions (logs, the
/// `vigil_role_changes_total` metric, tests). The summary says the rest in Patroni's words.
public enum Reason: String, Sendable, Equatable, CaseIterable {
    /// The store could not be read; nothing is done (this node was not a primary, or is paused).
    case storeUnreachable = "store_unreachable"
    /// The store could not be read and this node ran as primary: demoted offline, the key left to lapse.
    case demotedStoreUnreachable = "demoted_store_unreachable"
    /// A long operation (bootstrap, clone, rewind) is under way; a leader keeps renewing meanwhile.
    case busy
    /// This member races to initialize a new cluster.
    case bootstrapping
    /// An empty data directory is copied from the leader or a `clonefrom` member.
    case cloning
    /// This member holds the key but has no data directory: the key is released.
    case releasingLockWithoutData = "releasing_lock_without_data"
    /// No data, no leader, and this member may not bootstrap: it waits.
    case waitingForLeaderToBootstrap = "waiting_for_leader_to_bootstrap"
    /// A data directory but no `initialize` key: this cluster is adopted as the store's.
    case adoptingCluster = "adopting_cluster"
    /// The data directory belongs to another cluster: the agent exits.
    case systemIDMismatch = "system_id_mismatch"
    /// In pause PostgreSQL is not running; nothing is started (a held key is released).
    case pausedPostgresStopped = "paused_postgres_stopped"
    /// The leader's PostgreSQL is down: it is started again as primary, the key renewed.
    case restartingPrimary = "restarting_primary"
    /// The leader's PostgreSQL did not come back within primary_start_timeout: the key goes to a replica that can lead.
    case primaryStartTimedOut = "primary_start_timed_out"
    /// PostgreSQL is down on a member that does not hold the key: started as a replica.
    case startingReplica = "starting_replica"
    /// The leader's data directory is a replica's: it starts read-only and is promoted next.
    case startingReadOnlyWithLock = "starting_read_only_with_lock"
    /// PostgreSQL is starting; a leader renews while it does, up to primary_start_timeout.
    case stillStarting = "still_starting"
    /// PostgreSQL is shutting down (outside a demotion): nothing to do until it has.
    case postgresStopping = "postgres_stopping"
    /// The leader holds the key, PostgreSQL runs as primary: the key is renewed.
    case leaderWithLock = "leader_with_lock"
    /// In pause, a replica holds the key: it is renewed, nothing is promoted.
    case pausedReplicaWithLock = "paused_replica_with_lock"
    /// A replica holds the key: it is promoted.
    case promotingWithLock = "promoting_with_lock"
    /// A primary without the key and no leader: it takes the key back.
    case reacquiredLock = "reacquired_lock"
    /// The store said the key is no longer ours: a primary demotes at once.
    case demotedLostLock = "demoted_lost_lock"
    /// PostgreSQL runs but does not answer: nothing is renewed, nobody races.
    case postgresUnresponsive = "postgres_unresponsive"
    /// PostgreSQL does not answer and the lease would end first (or nobody holds it): stopped.
    case demotedUnresponsive = "demoted_unresponsive"
    /// A replica holding a key it failed to renew: not promoted.
    case renewingFailed = "renewal_failed"
    /// A switchover: the leader demotes gracefully for a candidate that can take over.
    case switchoverDemoting = "switchover_demoting"
    /// A switchover or failover request is cleared without effect (says why).
    case switchoverRefused = "switchover_refused"
    /// A scheduled switchover waits for its time.
    case switchoverScheduled = "switchover_scheduled"
    /// Someone else holds the key and this node ran as primary: demoted at once.
    case demotedNotLeader = "demoted_not_leader"
    /// No leader, and this node runs as primary on a timeline older than the cluster's: demoted.
    case demotedOldTimeline = "demoted_old_timeline"
    /// In pause, a primary without the key keeps running.
    case pausedPrimaryWithoutLock = "paused_primary_without_lock"
    /// A replica streams from the leader: nothing to do.
    case followingLeader = "following_leader"
    /// A replica is re-pointed at a new leader.
    case changingLeader = "changing_leader"
    /// A replica that cannot stream from the leader's timeline is rewound and restarted.
    case rejoiningLeader = "rejoining_leader"
    /// A replica just re-pointed at a leader on a newer timeline gets a moment to start streaming.
    case waitingForStream = "waiting_for_stream"
    /// No leader: the peers are asked before the race.
    case racing
    /// Before a switchover, the peers are asked who can take over.
    case probingForSwitchover = "probing_for_switchover"
    /// Past primary_start_timeout, the peers are asked whether one can take over.
    case probingForHandOver = "probing_for_hand_over"
    /// The race is won: the key taken and PostgreSQL promoted.
    case promotedByRace = "promoted_by_race"
    /// The race is not for this member: another is more advanced, has a higher priority, or this one lags.
    case notHealthiest = "not_healthiest"
    /// A primary still answers: nobody races.
    case primaryStillAlive = "primary_still_alive"
    /// A failover request names another member, which can take over.
    case deferringToCandidate = "deferring_to_candidate"
    /// The leader a switchover stepped down does not take the key back while another can.
    case askedToStepDown = "asked_to_step_down"
    /// nofailover or failover_priority 0: this member never races.
    case notAllowedToPromote = "not_allowed_to_promote"
    /// In pause nobody races (but a manual failover's candidate).
    case pausedNoRace = "paused_no_race"
    /// initdb or the first start failed: the `initialize` key is given up for another member and the agent exits.
    case bootstrapFailed = "bootstrap_failed"
    /// A primary that failed to start gave the key up.
    case primaryStartFailed = "primary_start_failed"
    /// `watchdog.mode: required` and the device could not be started: no promotion, or a demotion.
    case watchdogFailed = "watchdog_failed"
    /// A primary's cycle came to its deadline (the lease's end less the fence's margin) without a
    /// confirmed renewal: it stops at once (fast), read-only, the key left to lapse.
    case leaseRanOut = "lease_ran_out"
    /// A promotion was planned but the lease could not be shown to be ours at that moment: not promoted.
    case lockUnconfirmed = "lock_unconfirmed"
    /// A demotion could not stop PostgreSQL, even by killing it: the key is left to lapse.
    case demotionFailed = "demotion_failed"
    /// The agent shuts down (SIGTERM).
    case shuttingDown = "shutting_down"
    /// Before a promotion the `sync` key had changed under this member: the promotion waits a cycle.
    case promotionPostponed = "promotion_postponed"
    /// Synchronous mode is active and this member is not one the `sync` key names: it does not race.
    case notSynchronous = "not_synchronous"
}
