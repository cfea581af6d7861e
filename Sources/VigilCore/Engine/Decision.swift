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

/// Why a decision was made; stable across versions, for metrics and tests.
public enum Reason: String, Sendable, Equatable, CaseIterable {
    case storeUnreachable = "store_unreachable"
    case demotedStoreUnreachable = "demoted_store_unreachable"
    case busy
    case bootstrapping
    case cloning
    case waitingForLeaderToBootstrap = "waiting_for_leader_to_bootstrap"
    case adoptingCluster = "adopting_cluster"
    case systemIDMismatch = "system_id_mismatch"
    case pausedPostgresStopped = "paused_postgres_stopped"
    case restartingPrimary = "restarting_primary"
    case primaryStartTimedOut = "primary_start_timed_out"
    case startingReplica = "starting_replica"
    case stillStarting = "still_starting"
    case leaderWithLock = "leader_with_lock"
    case promotingWithLock = "promoting_with_lock"
    case demotedLostLock = "demoted_lost_lock"
    case postgresUnresponsive = "postgres_unresponsive"
    case demotedUnresponsive = "demoted_unresponsive"
    case renewingFailed = "renewal_failed"
    case switchoverDemoting = "switchover_demoting"
    case switchoverRefused = "switchover_refused"
    case switchoverScheduled = "switchover_scheduled"
    case demotedNotLeader = "demoted_not_leader"
    case followingLeader = "following_leader"
    case changingLeader = "changing_leader"
    case waitingForStream = "waiting_for_stream"
    case racing
    case promotedByRace = "promoted_by_race"
    case notHealthiest = "not_healthiest"
    case notAllowedToPromote = "not_allowed_to_promote"
    case pausedNoRace = "paused_no_race"
}
