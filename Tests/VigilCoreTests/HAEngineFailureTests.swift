import Testing
import VigilCore

/// The engine's rules for a PostgreSQL that misbehaves under a leader (hangs, crashes, starts
/// slowly), for lock renewals that fail, and for requests the tests in HAEngineTests leave out.
extension HAEngineTests {
    static func unanswering(_ role: PostgresStatus.Role) -> LocalPostgres {
        LocalPostgres(dataDirectory: .initialized(systemID: "7000"), status: PostgresStatus(state: .running, role: role),
                      answering: false)
    }

    static func settings(primaryStartTimeout: Duration) -> (inout Observation) -> Void {
        { $0.settings.primaryStartTimeout = primaryStartTimeout }
    }

    static func decide(_ me: String, _ cluster: ClusterState, _ postgres: LocalPostgres, peers: [PeerStatus]? = nil,
                       lock: LockState = LockState(lastConfirmed: now - .seconds(2)), paused: Bool = false,
                       adjust: (inout Observation) -> Void) -> Decision {
        var o = observe(me, .reachable(cluster), postgres, peers: peers, lock: lock, paused: paused)
        adjust(&o)
        return HAEngine.decide(o)
    }

    // MARK: PostgreSQL runs but does not answer

    /// A leader whose PostgreSQL does not answer does not renew (nothing proved it healthy); once
    /// its lease would end before the next cycle (loop_wait 10 here) and a demotion (3 s) are
    /// over, it stops PostgreSQL and hands the key over rather than risk writes after the lease.
    @Test(arguments: [
        (confirmedAgo: 2, demotes: false),
        (confirmedAgo: 16, demotes: false),
        (confirmedAgo: 17, demotes: true),
        (confirmedAgo: 29, demotes: true),
    ])
    func aLeaderWhosePostgresDoesNotAnswerIsNotRenewed(confirmedAgo: Int, demotes: Bool) {
        let lock = LockState(lastConfirmed: Self.now - .seconds(confirmedAgo))
        let d = Self.decide("n1", Self.cluster(), Self.unanswering(.primary), lock: lock)
        #expect(!d.actions.contains(.renewLeader))
        if demotes {
            #expect(d.actions == [.demote(.immediate)] && d.reason == .demotedUnresponsive)
        } else {
            #expect(d.actions.isEmpty && d.reason == .postgresUnresponsive)
            #expect(d.summary == "Error communicating with PostgreSQL. Will try again later (leader lock not renewed)")
        }
        let paused = Self.decide("n1", Self.cluster(), Self.unanswering(.primary), lock: lock, paused: true)
        #expect(paused.actions.isEmpty, "in pause nothing is stopped")
        var busy = Self.unanswering(.primary)
        busy.busyWith = "reading the data directory"
        #expect(!Self.decide("n1", Self.cluster(), busy, lock: lock).actions.contains(.renewLeader),
                "no busy step renews the key for a server that did not answer")
    }

    @Test func aMemberWhosePostgresDoesNotAnswerNeitherRacesNorKeepsRunningAsARoguePrimary() {
        let replica = Self.decide("n2", Self.cluster(leader: nil), Self.unanswering(.replica), peers: [])
        #expect(replica.actions.isEmpty && replica.reason == .postgresUnresponsive)
        #expect(replica.summary == "Error communicating with PostgreSQL. Will try again later")
        let follower = Self.decide("n2", Self.cluster(), Self.unanswering(.replica))
        #expect(follower.actions.isEmpty, "not rewound or re-pointed on a guess")
        let rogue = Self.decide("n2", Self.cluster(), Self.unanswering(.primary))
        #expect(rogue.actions == [.demote(.immediateNoLock)] && rogue.reason == .demotedNotLeader)
        let lapsed = Self.decide("n1", Self.cluster(leader: nil), Self.unanswering(.primary), lock: LockState())
        #expect(lapsed.actions == [.demote(.immediateNoLock)] && lapsed.reason == .demotedUnresponsive,
                "a primary whose lease lapsed does not take the key back unanswered")
        #expect(Self.decide("n1", Self.cluster(leader: nil), Self.unanswering(.primary), paused: true).actions.isEmpty)
    }

    /// The member key shares the lease with the leader key: a cycle that holds the key but did
    /// not renew it must not extend that lease by writing the member key.
    @Test(arguments: [
        (leader: "n2", confirmedAgo: nil, lost: false, extends: true),
        (leader: nil, confirmedAgo: nil, lost: false, extends: true),
        (leader: "n1", confirmedAgo: 0, lost: false, extends: true),
        (leader: "n1", confirmedAgo: 3, lost: false, extends: false),
        (leader: "n1", confirmedAgo: 0, lost: true, extends: false),
        (leader: "n1", confirmedAgo: nil, lost: false, extends: false),
    ] as [(String?, Int?, Bool, Bool)])
    func theMemberWriteExtendsTheLeaseOnlyForACycleThatRenewedAHeldKey(leader: String?, confirmedAgo: Int?, lost: Bool,
                                                                       extends: Bool) {
        let o = Self.observe("n1", .reachable(Self.cluster(leader: leader)), Self.primary())
        let lock = LockState(lastConfirmed: confirmedAgo.map { Self.now - .seconds($0) }, lost: lost)
        #expect(o.memberWriteMayExtendLease(lock: lock) == extends)
        #expect(!Self.observe("n1", .unreachable, Self.primary()).memberWriteMayExtendLease(lock: LockState()),
                "a view the store did not give proves nothing")
    }

    // MARK: Crash and slow start

    /// `primary_start_timeout: 0`: a crashed primary fails over at once when a replica can lead.
    @Test func primaryStartTimeoutZeroFailsOverAtOnce() {
        let crashed = Self.stopped(.crashed("killed"), since: Self.now)
        let d = Self.decide("n1", Self.cluster(), crashed, peers: Self.peers(("n2", 5000)),
                            adjust: Self.settings(primaryStartTimeout: .zero))
        #expect(d.actions == [.releaseLeader, .startPostgres(.replica(following: nil))] && d.reason == .primaryStartTimedOut)
    }

    @Test(arguments: [
        (startedAgo: 100, peers: nil, actions: [.renewLeader], reason: Reason.stillStarting),
        (startedAgo: 301, peers: nil, actions: [.renewLeader, .probePeers], reason: .probingForHandOver),
        (startedAgo: 301, peers: [PeerStatus(name: "n2", reachable: true, walPosition: 5000)],
         actions: [.demote(.immediate)], reason: .primaryStartTimedOut),
        (startedAgo: 301, peers: [PeerStatus(name: "n2", reachable: true, walPosition: 5000, nofailover: true)],
         actions: [.renewLeader], reason: .stillStarting),
    ] as [(Int, [PeerStatus]?, [Action], Reason)])
    func aSlowStartIsGivenUpOnlyForAReplicaThatCanTakeOver(startedAgo: Int, peers: [PeerStatus]?, actions: [Action], reason: Reason) {
        let starting = Self.stopped(.starting, since: Self.now - .seconds(startedAgo))
        let d = Self.decide("n1", Self.cluster(), starting, peers: peers)
        #expect(d.actions == actions && d.reason == reason, "\(d.summary)")
        let replica = Self.decide("n2", Self.cluster(), Self.stopped(.starting, role: .replica))
        #expect(replica.actions.isEmpty && replica.summary == "PostgreSQL is still starting up")
    }

    // MARK: Failed renewals and requests

    @Test func aReplicaWithALockItFailedToRenewIsNotPromoted() {
        let lost = LockState(lastConfirmed: Self.now - .seconds(2), lost: true)
        let d = Self.decide("n1", Self.cluster(), Self.replica(following: nil), lock: lost)
        #expect(d.actions.isEmpty && d.reason == .renewingFailed)
        #expect(d.summary == "not promoting because failed to update leader lock in DCS")
        let primary = Self.decide("n1", Self.cluster(), Self.primary(), lock: lost)
        #expect(primary.actions == [.demote(.immediateNoLock)] && primary.reason == .demotedLostLock)
        #expect(primary.summary == "demoted self because failed to update leader lock in DCS")
    }

    /// `patronictl failover --candidate n2` writes only the member: the leader steps down for it.
    @Test func aManualFailoverNamingOnlyTheCandidateMovesTheLeader() {
        let cluster = Self.cluster(failover: FailoverRequest(member: "n2"))
        let d = Self.decide("n1", cluster, Self.primary(streamingTo: ["n2"]), peers: Self.peers(("n2", 5000), ("n3", 5000)))
        #expect(d.actions == [.renewLeader, .demote(.graceful)])
        let lagging = Self.decide("n1", cluster, Self.primary(streamingTo: ["n2"]), peers: Self.peers(("n2", 5000 - 2_000_000)))
        #expect(lagging.actions == [.renewLeader, .clearFailover(version: 9)])
        #expect(lagging.summary == "cleared a switchover request: member n2 is not healthy enough to take over")
    }

    /// The observation's wall clock is 2027-01-15T08:00:00Z: a switchover scheduled within
    /// loop_wait of it goes ahead.
    @Test func aScheduledSwitchoverInItsWindowGoesAhead() {
        let due = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2027-01-15T08:00:05+00:00")
        let d = Self.decide("n1", Self.cluster(failover: due), Self.primary(streamingTo: ["n2"]), peers: Self.peers(("n2", 5000)))
        #expect(d.actions == [.renewLeader, .demote(.graceful)] && d.reason == .switchoverDemoting)
        let justPast = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2027-01-15T07:59:50+00:00")
        #expect(Self.decide("n1", Self.cluster(failover: justPast), Self.primary(streamingTo: ["n2"]), peers: Self.peers(("n2", 5000))).reason
            == .switchoverDemoting)
    }

    /// In pause nobody races, except the candidate a manual failover names (spec 3.11).
    @Test func inPauseOnlyTheNamedCandidateTakesTheKey() {
        let cluster = Self.cluster(leader: nil, failover: FailoverRequest(member: "n2"))
        #expect(Self.decide("n2", cluster, Self.replica(), paused: true).actions == [.probePeers])
        let d = Self.decide("n2", cluster, Self.replica(), peers: Self.peers(("n1", 5000), ("n3", 5000)), paused: true)
        #expect(d.actions == [.acquireLeader, .clearFailover(version: nil), .promote, .updateStatus])
        #expect(d.summary == "PAUSE: promoted self to leader by acquiring session lock")
        #expect(Self.decide("n3", cluster, Self.replica(), paused: true).reason == .pausedNoRace)
        let primaryAlive = Self.decide("n2", cluster, Self.replica(), peers: Self.peers(("n1", 5000), primary: "n1"), paused: true)
        #expect(primaryAlive.actions.isEmpty && primaryAlive.summary == "PAUSE: not taking over: Primary (n1) is still alive")
        let scheduled = Self.cluster(leader: nil, failover: FailoverRequest(member: "n2", scheduledAt: "2027-01-15T08:00:00+00:00"))
        #expect(Self.decide("n2", scheduled, Self.replica(), paused: true).reason == .pausedNoRace)
    }

    /// Reason codes are an interface (logs, metrics): they change only on purpose.
    @Test func reasonCodesAreStable() {
        #expect(Reason.allCases.map(\.rawValue) == [
            "store_unreachable", "demoted_store_unreachable", "busy", "bootstrapping", "cloning",
            "releasing_lock_without_data", "waiting_for_leader_to_bootstrap", "adopting_cluster", "system_id_mismatch", "paused_postgres_stopped",
            "restarting_primary", "primary_start_timed_out", "starting_replica", "starting_read_only_with_lock",
            "still_starting", "postgres_stopping", "leader_with_lock", "paused_replica_with_lock", "promoting_with_lock",
            "reacquired_lock", "demoted_lost_lock", "postgres_unresponsive", "demoted_unresponsive", "renewal_failed",
            "switchover_demoting", "switchover_refused", "switchover_scheduled", "demoted_not_leader", "demoted_old_timeline",
            "paused_primary_without_lock", "following_leader", "changing_leader", "rejoining_leader", "waiting_for_stream",
            "racing", "probing_for_switchover", "probing_for_hand_over", "promoted_by_race", "not_healthiest",
            "primary_still_alive", "deferring_to_candidate", "asked_to_step_down", "not_allowed_to_promote",
            "paused_no_race", "bootstrap_failed", "primary_start_failed", "watchdog_failed", "lease_ran_out", "lock_unconfirmed", "demotion_failed", "shutting_down",
            "promotion_postponed", "not_synchronous",
        ])
    }
}
