/// What the engine decides and what the shell carries out, one at a time, as `HAMachine` hands
/// them out. The engine plans in the coarser steps (`demote`, `updateStatus`, `recordHistory`,
/// `probePeers`); the machine turns each into the shell's steps below the line, which the
/// engine never plans. A step marked as a gate (`isGate`) can fail (a lost race, a lock that is
/// no longer ours); when it does, nothing after it runs and the engine is asked again.
public enum Action: Sendable, Equatable {
    /// Ask every other member for `GET /patroni` (2 s, in parallel), then decide again.
    case probePeers
    /// The bootstrap race: create the `initialize` key (empty) if nobody has. Gate.
    case claimInitialization
    /// initdb, start, create roles; on failure the shell cancels the `initialize` key.
    case bootstrap
    /// Write the local system identifier into `initialize` (after bootstrap, or adopting a cluster).
    case recordSystemID
    /// Delete the `initialize` key this member created (its bootstrap failed: another may try).
    case cancelInitialization
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
    /// Compare where the running replica's WAL ends with `leader`'s timeline history, without
    /// stopping it; answered with `.timelineCheck`, from which the machine follows or rejoins.
    case checkTimeline(leader: String)
    /// End recovery. The new timeline must be above every timeline in the store's history,
    /// even ones this data directory never saw (the shell places their history files in
    /// pg_wal first), so two branches never share a timeline number.
    case promote
    case demote(DemoteMode)
    /// Keep the primary's replication slots and write `status` (optime, slots, the slots
    /// retained for members that left) when it changed.
    case updateStatus
    /// Append this member's promotion to the `history` key.
    case recordHistory
    /// Clear the `failover` key (to `{}`): compare-and-swap on `version`, or unconditionally
    /// (nil) by a new leader, as Patroni does.
    case clearFailover(version: Int64?)
    /// Stop for good: the data directory belongs to another cluster.
    case exit(String)
    /// A running primary keeps synchronous replication in step with its standbys (or turns it
    /// off): `synchronous_standby_names` and the `sync` key, in the order that never names a
    /// standby as promotable before it has every acknowledged commit.
    case manageSync
    /// Before a promotion: the `sync` key names this member, and PostgreSQL starts waiting for
    /// the fewest standbys it may. Its failure postpones the promotion.
    case prepareSync

    // The shell's steps (planned by the machine only).

    /// Ask these members for `GET /patroni` (2 s, in parallel); answered with `.peers`.
    case askPeers([Member])
    /// Stop PostgreSQL in `mode`, waiting at most `timeout` for the postmaster to go.
    case stopPostgres(StopMode, timeout: Duration)
    /// SIGSTOP the postmaster, SIGKILL it and every process it started, await their exit.
    case killPostmaster
    /// Create, drop or advance one replication slot (SlotPlan says which).
    case changeSlot(SlotChange)
    /// Write the `status` key.
    case writeStatus(StatusRecord)
    /// Find where PostgreSQL's timeline `timeline` branched off (its history file); answered
    /// with `.timelineSwitch`.
    case readTimelineSwitch(timeline: Int64)
    /// Write the `history` key.
    case writeHistory([TimelineEvent])
    /// Write this member's key; it extends the member's lease only when `extendingLease`.
    case publishMember(extendingLease: Bool)
    /// Ask PostgreSQL for its state again (after a step changed it), for the REST API and the member key.
    case refreshPostgres
    /// Restart PostgreSQL in place (an operator's request).
    case restartPostgres
    /// Replace the data directory with a copy of `from`'s and stream from it (an operator's request).
    case reinitialize(from: String)
    /// Start the user's script for this callback, without waiting for it.
    case runCallback(Callback)
    /// Write the `sync` key (nil deletes it), only if it is still at `expectedVersion` (nil:
    /// unconditionally); answered with `.syncWritten`.
    case writeSync(SyncState?, expectedVersion: Int64?)
    /// Set `synchronous_standby_names` and reload PostgreSQL.
    case setSyncStandbyNames(SyncNamesSetting)
    /// A synchronous standby about to stop or restart asks the primary to release it: it
    /// publishes `nosync` (until the agent's next step is done) and waits, up to `within`, until
    /// the `sync` key no longer lists it (Patroni's while_not_sync_standby).
    case releaseSync(within: Duration)
    /// Tell the fence outside the agent: stop PostgreSQL at a deadline unless moved, or guard
    /// nothing (`FenceOrder`).
    case fence(FenceOrder)

    /// Whether the step can take longer than `ttl` (initdb, a clone, a rewind, crash recovery):
    /// the shell keeps the member key alive meanwhile, as Patroni's touch_member does.
    public var mayOutlastTTL: Bool {
        switch self {
        case .bootstrap, .createReplica, .rejoin, .startPostgres, .reinitialize: true
        default: false
        }
    }

    /// Whether the step starts, stops or re-points PostgreSQL (its state settles a moment later).
    public var changesPostgres: Bool {
        switch self {
        case .bootstrap, .createReplica, .startPostgres, .follow, .rejoin, .promote, .demote, .stopPostgres, .killPostmaster,
             .restartPostgres, .reinitialize: true
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

/// How PostgreSQL is stopped: `fast` ends sessions and writes a shutdown checkpoint that
/// replicas receive; `immediate` (SIGQUIT) ends it at once, with crash recovery on the next start.
public enum StopMode: String, Sendable, Equatable {
    case fast
    case immediate
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
