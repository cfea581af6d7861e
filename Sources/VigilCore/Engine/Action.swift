/// What the shell does for a decision, in order. A step marked as a gate (`isGate`) can fail
/// (a lost race, a lock that is no longer ours); when it does, the shell runs nothing after
/// it and asks the engine again with what it learned.
public enum Action: Sendable, Equatable {
    /// Ask every other member for `GET /patroni` (2 s, in parallel), then decide again.
    case probePeers
    /// The bootstrap race: create the `initialize` key (empty) if nobody has. Gate.
    case claimInitialization
    /// initdb, start, create roles; on failure the shell cancels the `initialize` key.
    case bootstrap
    /// Write the local system identifier into `initialize` (after bootstrap, or adopting a cluster).
    case recordSystemID
    /// Write `bootstrap.dcs` into the `config` key, if it is empty.
    case writeInitialConfig
    /// Take the leader key by atomic create. Gate.
    case acquireLeader
    /// Prove the leader key ours and extend its lease. Gate.
    case renewLeader
    /// Delete the leader key if it is still ours.
    case releaseLeader
    /// Clone the data directory from `member` with pg_basebackup and start streaming from it.
    case createReplica(from: String)
    /// Start PostgreSQL: as primary, or as a replica of `following` (nil: read-only, no upstream yet).
    case startPostgres(StartRole)
    /// Re-point the running replica at `leader` (a reload of primary_conninfo).
    case follow(leader: String)
    /// The data directory rejoins as a replica of `leader`: stop it if it runs, rewind if its
    /// history diverged, then start streaming.
    case rejoin(leader: String)
    /// End recovery. The new timeline must be above every timeline in the store's history,
    /// even ones this data directory never saw (the shell places their history files in
    /// pg_wal first), so two branches never share a timeline number.
    case promote
    case demote(DemoteMode)
    /// Write `status` (optime and slots) when it changed.
    case updateStatus
    /// Append this member's promotion to the `history` key.
    case recordHistory
    /// Clear the `failover` key (to `{}`): compare-and-swap on `version`, or unconditionally
    /// (nil) by a new leader, as Patroni does.
    case clearFailover(version: Int64?)
    /// Stop for good: the data directory belongs to another cluster.
    case exit(String)

    /// Whether the step can take longer than `ttl` (initdb, a clone, a rewind, crash recovery):
    /// the shell keeps the member key alive meanwhile, as Patroni's touch_member does.
    public var mayOutlastTTL: Bool {
        switch self {
        case .bootstrap, .createReplica, .rejoin, .startPostgres: true
        default: false
        }
    }

    /// Whether the step starts, stops or re-points PostgreSQL (its state settles a moment later).
    public var changesPostgres: Bool {
        switch self {
        case .bootstrap, .createReplica, .startPostgres, .follow, .rejoin, .promote, .demote: true
        default: false
        }
    }

    public var isGate: Bool {
        switch self {
        case .claimInitialization, .acquireLeader, .renewLeader: true
        default: false
        }
    }
}

public enum StartRole: Sendable, Equatable {
    case primary
    case replica(following: String?)
}

/// How a primary steps down (Patroni's demote modes).
public enum DemoteMode: String, Sendable, Equatable {
    /// Switchover: checkpoint, fast stop, release the key once a replica has the shutdown
    /// checkpoint, restart as a replica.
    case graceful
    /// Unfit to lead: immediate stop, release the key, restart as a replica.
    case immediate
    /// The key is already gone (someone else leads): immediate stop, restart as a replica.
    case immediateNoLock = "immediate-nolock"
    /// The store is unreachable: fast stop, restart read-only; the key is left to expire.
    case offline
}
