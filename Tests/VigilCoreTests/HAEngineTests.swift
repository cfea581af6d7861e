import Testing
import VigilCore

/// One rule of the HA loop per test, on `HAEngine.decide` alone.
@Suite struct HAEngineTests {
    // MARK: Building observations

    static let now = Duration.seconds(1000)

    static func member(_ name: String, role: String = "replica", timeline: Int64 = 1, clonefrom: Bool = false) -> Member {
        Member(name: name, record: MemberRecord(state: "running", role: role, tags: clonefrom ? ["clonefrom": true] : nil,
                                                timeline: timeline))
    }

    static func cluster(leader: String? = "n1", members: [String] = ["n1", "n2", "n3"], initialize: String? = "7000",
                        optime: Int64? = 5000, history: [TimelineEvent]? = [], failover: FailoverRequest? = nil,
                        leaderTimeline: Int64 = 1) -> ClusterState {
        ClusterState(initialize: initialize, leader: leader.map { LeaderLock(name: $0, version: 3) },
                     members: members.map { member($0, role: $0 == leader ? "primary" : "replica",
                                                   timeline: $0 == leader ? leaderTimeline : 1) },
                     status: optime.map { StatusRecord(optime: $0) },
                     history: history.map { Versioned($0, version: 2) },
                     failover: failover.map { Versioned($0, version: 9) })
    }

    static func primary(wal: Int64 = 5000, timeline: Int64 = 1) -> LocalPostgres {
        LocalPostgres(dataDirectory: .initialized(systemID: "7000"),
                      status: PostgresStatus(state: .running, role: .primary, timeline: timeline, walPosition: wal))
    }

    static func replica(wal: Int64 = 5000, following: String? = "n1", timeline: Int64 = 1, streaming: Bool = true) -> LocalPostgres {
        LocalPostgres(dataDirectory: .initialized(systemID: "7000"),
                      status: PostgresStatus(state: .running, role: .replica, timeline: timeline, walPosition: wal,
                                             replicationState: streaming ? "streaming" : "in archive recovery"),
                      following: following)
    }

    static func stopped(_ state: PostgresStatus.State = .stopped, role: PostgresStatus.Role = .primary,
                        since: Duration = now - .seconds(5)) -> LocalPostgres {
        LocalPostgres(dataDirectory: .initialized(systemID: "7000"), status: PostgresStatus(state: state, role: role),
                      stateSince: since)
    }

    static let empty = LocalPostgres(dataDirectory: .empty, status: PostgresStatus(state: .uninitialized))

    static func observe(_ me: String = "n1", _ store: StoreView, _ postgres: LocalPostgres, peers: [PeerStatus]? = nil,
                        lock: LockState = LockState(lastConfirmed: now - .seconds(2)), nofailover: Bool = false,
                        paused: Bool = false, priority: Int64 = 1, usePgRewind: Bool = false) -> Observation {
        var settings = EngineSettings(timings: HATimings(ttl: 30, loopWait: 10, retryTimeout: 10), paused: paused)
        settings.usePgRewind = usePgRewind
        return Observation(now: now, wallClock: 1_800_000_000, me: MemberIdentity(name: me, nofailover: nofailover, failoverPriority: priority),
                           settings: settings, store: store, postgres: postgres, lock: lock, peers: peers)
    }

    static func decide(_ me: String = "n1", _ cluster: ClusterState, _ postgres: LocalPostgres, peers: [PeerStatus]? = nil,
                       lock: LockState = LockState(lastConfirmed: now - .seconds(2)), nofailover: Bool = false,
                       paused: Bool = false, priority: Int64 = 1, usePgRewind: Bool = false) -> Decision {
        HAEngine.decide(observe(me, .reachable(cluster), postgres, peers: peers, lock: lock, nofailover: nofailover,
                                paused: paused, priority: priority, usePgRewind: usePgRewind))
    }

    static func peers(_ list: (String, Int64)..., primary: String? = nil) -> [PeerStatus] {
        list.map { PeerStatus(name: $0.0, reachable: true, inRecovery: $0.0 != primary, walPosition: $0.1) }
    }

    // MARK: Store unreachable

    @Test func aPrimaryThatCannotReachTheStoreDemotesItself() {
        let d = HAEngine.decide(Self.observe("n1", .unreachable, Self.primary()))
        #expect(d.actions == [.demote(.offline)] && d.reason == .demotedStoreUnreachable)
        #expect(d.summary == "demoted self because DCS is not accessible and I was a leader")
        let replica = HAEngine.decide(Self.observe("n2", .unreachable, Self.replica()))
        #expect(replica.actions.isEmpty && replica.summary == "DCS is not accessible")
    }

    // MARK: Bootstrap

    @Test func theFirstNodeBootstrapsThroughTheInitializeRace() {
        let d = Self.decide("n1", Self.cluster(leader: nil, members: [], initialize: nil, optime: nil, history: nil), Self.empty)
        #expect(d.actions == [.claimInitialization, .bootstrap, .recordSystemID, .writeInitialConfig, .acquireLeader, .updateStatus])
        #expect(d.summary == "trying to bootstrap a new cluster")
        #expect(d.actions.first?.isGate == true)
    }

    @Test func othersWaitOrCloneFromTheLeaderOrAClonefromReplica() {
        let bootstrapping = Self.cluster(leader: nil, members: [], initialize: "", optime: nil)
        #expect(Self.decide("n2", bootstrapping, Self.empty).reason == .waitingForLeaderToBootstrap)
        let nofailover = Self.decide("n2", Self.cluster(leader: nil, members: [], initialize: nil), Self.empty, nofailover: true)
        #expect(nofailover.reason == .waitingForLeaderToBootstrap)
        let fromLeader = Self.decide("n3", Self.cluster(), Self.empty)
        #expect(fromLeader.actions == [.createReplica(from: "n1")] && fromLeader.summary == "trying to bootstrap from leader 'n1'")
        var withClonefrom = Self.cluster()
        withClonefrom.members[1] = Self.member("n2", clonefrom: true)
        #expect(Self.decide("n3", withClonefrom, Self.empty).actions == [.createReplica(from: "n2")])
    }

    @Test func aDataDirectoryOfAnotherClusterStopsTheAgent() {
        let d = Self.decide("n2", Self.cluster(initialize: "9999"), Self.replica())
        #expect(d.reason == .systemIDMismatch && d.actions == [.exit("system ID mismatch")])
    }

    @Test func anExistingPrimaryIsAdoptedWhenTheStoreIsEmpty() {
        let d = Self.decide("n1", Self.cluster(leader: nil, members: [], initialize: nil), Self.primary())
        #expect(d.actions == [.recordSystemID] && d.reason == .adoptingCluster)
    }

    // MARK: PostgreSQL down

    @Test func aCrashedPrimaryWithTheLockRestartsInPlaceUntilTheTimeout() {
        let fresh = Self.decide("n1", Self.cluster(), Self.stopped(.crashed("killed")))
        #expect(fresh.actions == [.renewLeader, .startPostgres(.primary)] && fresh.summary == "starting primary after failure")
        let crashed = Self.stopped(.crashed("killed"), since: Self.now - .seconds(301))
        let late = Self.decide("n1", Self.cluster(), crashed)
        #expect(late.actions == [.renewLeader, .probePeers], "past the timeout it first asks who could take over")
        let able = Self.decide("n1", Self.cluster(), crashed, peers: Self.peers(("n2", 5000)))
        #expect(able.actions == [.releaseLeader, .startPostgres(.replica(following: nil))] && able.reason == .primaryStartTimedOut)
        let nobody = Self.decide("n1", Self.cluster(), crashed, peers: [.unreachable("n2")] + Self.peers(("n3", 5000 - 2_000_000)))
        #expect(nobody.actions == [.renewLeader, .startPostgres(.primary)], "no replica can lead: restart in place")
    }

    @Test func aStoppedNodeRejoinsTheLeader() {
        let d = Self.decide("n2", Self.cluster(), Self.stopped(role: .replica))
        #expect(d.actions == [.rejoin(leader: "n1")] && d.summary == "starting as a secondary")
        let noLeader = Self.decide("n2", Self.cluster(leader: nil), Self.stopped(role: .replica))
        #expect(noLeader.actions == [.startPostgres(.replica(following: nil))])
    }

    @Test func inPauseNothingIsStarted() {
        let d = Self.decide("n2", Self.cluster(), Self.stopped(role: .replica), paused: true)
        #expect(d.actions.isEmpty && d.summary == "PAUSE: postgres is not running")
    }

    // MARK: The leader

    @Test func theLeaderRenewsAndPublishesStatus() {
        let d = Self.decide("n1", Self.cluster(), Self.primary())
        #expect(d.actions == [.renewLeader, .updateStatus])
        #expect(d.summary == "no action. I am (n1), the leader with the lock")
        #expect(d.actions.first?.isGate == true, "nothing after a failed renewal runs")
    }

    @Test func aNewTimelineIsRecordedInTheHistory() {
        let d = Self.decide("n1", Self.cluster(history: []), Self.primary(timeline: 2))
        #expect(d.actions == [.renewLeader, .updateStatus, .recordHistory])
    }

    @Test func aLostLockDemotesThePrimaryAtOnce() {
        let d = Self.decide("n1", Self.cluster(), Self.primary(), lock: LockState(lastConfirmed: Self.now - .seconds(5), lost: true))
        #expect(d.actions == [.demote(.immediateNoLock)] && d.reason == .demotedLostLock)
        let paused = Self.decide("n1", Self.cluster(), Self.primary(), lock: LockState(lost: true), paused: true)
        #expect(paused.actions.isEmpty)
    }

    @Test func aLockHolderRunningAsReplicaPromotes() {
        let d = Self.decide("n1", Self.cluster(), Self.replica(following: nil))
        #expect(d.actions == [.renewLeader, .promote, .updateStatus] && d.reason == .promotingWithLock)
    }

    // MARK: Followers

    @Test func aPrimaryWithoutTheLockDemotes() {
        let d = Self.decide("n2", Self.cluster(), Self.primary())
        #expect(d.actions == [.demote(.immediateNoLock)])
        #expect(d.summary == "demoting self because I do not have the lock and I was a leader")
    }

    @Test func aReplicaFollowsTheLeader() {
        #expect(Self.decide("n2", Self.cluster(), Self.replica(following: "n3")).actions == [.follow(leader: "n1")])
        let settled = Self.decide("n2", Self.cluster(), Self.replica())
        #expect(settled.actions.isEmpty)
        #expect(settled.summary == "no action. I am (n2), a secondary, and following a leader (n1)")
    }

    @Test func aReplicaStuckBehindAForkedTimelineRejoins() {
        let d = Self.decide("n2", Self.cluster(leaderTimeline: 3), Self.replica(timeline: 2, streaming: false))
        #expect(d.actions == [.rejoin(leader: "n1")])
        #expect(Self.decide("n2", Self.cluster(leaderTimeline: 2), Self.replica(timeline: 2, streaming: false)).actions.isEmpty,
                "same timeline: the upstream is just restarting")
    }

    // MARK: The leader race

    @Test func theRaceStartsByAskingThePeers() {
        let d = Self.decide("n2", Self.cluster(leader: nil), Self.replica())
        #expect(d.actions == [.probePeers] && d.reason == .racing)
    }

    @Test func theHealthiestReplicaTakesTheLockAndPromotes() {
        let d = Self.decide("n2", Self.cluster(leader: nil), Self.replica(wal: 5000),
                            peers: Self.peers(("n3", 4000)) + [.unreachable("n1")])
        #expect(d.actions == [.acquireLeader, .promote, .updateStatus])
        #expect(d.summary == "promoted self to leader by acquiring session lock")
    }

    @Test(arguments: [
        ("a reachable primary", [PeerStatus(name: "n1", reachable: true, inRecovery: false, walPosition: 0)], "Primary (n1) is still alive"),
        ("a peer ahead", [PeerStatus(name: "n3", reachable: true, walPosition: 6000)], "n3 is ahead"),
        ("a peer as far with a higher priority", [PeerStatus(name: "n3", reachable: true, walPosition: 5000, failoverPriority: 5)],
         "higher failover_priority"),
    ])
    func aReplicaDoesNotRaceAgainst(_ c: (String, [PeerStatus], String)) {
        let d = Self.decide("n2", Self.cluster(leader: nil), Self.replica(wal: 5000), peers: c.1)
        #expect(d.actions.isEmpty && d.reason == (c.0 == "a reachable primary" ? .primaryStillAlive : .notHealthiest), "\(c.0)")
        #expect(d.summary.contains(c.2), "\(d.summary)")
    }

    @Test func aLaggingReplicaIsNotPromoted() {
        let d = Self.decide("n2", Self.cluster(leader: nil, optime: 5_000_000), Self.replica(wal: 3_000_000), peers: [])
        #expect(d.actions.isEmpty && d.reason == .notHealthiest && d.summary.contains("lagging 2000000 bytes"))
    }

    @Test func aNofailoverReplicaNeverRaces() {
        let d = Self.decide("n2", Self.cluster(leader: nil), Self.replica(), peers: [], nofailover: true)
        #expect(d.actions.isEmpty && d.reason == .notAllowedToPromote)
        #expect(Self.decide("n2", Self.cluster(leader: nil), Self.replica(), peers: [], priority: 0).reason == .notAllowedToPromote)
    }

    @Test func inPauseNobodyIsPromoted() {
        let d = Self.decide("n2", Self.cluster(leader: nil), Self.replica(), peers: [], paused: true)
        #expect(d.actions.isEmpty && d.reason == .pausedNoRace)
        let primary = Self.decide("n1", Self.cluster(leader: nil), Self.primary(), paused: true)
        #expect(primary.actions == [.acquireLeader, .updateStatus], "a paused primary without a key takes it back")
    }

    @Test func aPrimaryWhoseLeaseLapsedRetakesItUnlessANewerTimelineExists() {
        #expect(Self.decide("n1", Self.cluster(leader: nil), Self.primary()).actions == [.probePeers])
        #expect(Self.decide("n1", Self.cluster(leader: nil), Self.primary(), peers: Self.peers(("n2", 4000))).actions
            == [.acquireLeader, .updateStatus])
        // A peer promoted meanwhile, whose promotion the store's history lost.
        let newer = [PeerStatus(name: "n2", reachable: true, walPosition: 4000, timeline: 2)]
        let behind = Self.decide("n1", Self.cluster(leader: nil), Self.primary(), peers: newer)
        #expect(behind.actions == [.demote(.immediateNoLock)] && behind.reason == .demotedOldTimeline)
        let stale = Self.decide("n1", Self.cluster(leader: nil, history: [TimelineEvent(timeline: 1, lsn: 10, reason: "")]),
                                Self.primary(timeline: 1))
        #expect(stale.actions == [.demote(.immediateNoLock)])
    }

    // MARK: Switchover

    static func primary(streamingTo standbys: [String]) -> LocalPostgres {
        var p = primary()
        p.status.replication = standbys.map {
            StandbyConnection(applicationName: $0, clientAddress: nil, state: "streaming", syncState: "async",
                              sentLSN: 5000, flushLSN: 5000, replayLSN: 5000)
        }
        return p
    }

    @Test func aSwitchoverAsksThePeersThenStepsDownGracefully() {
        let cluster = Self.cluster(failover: FailoverRequest(leader: "n1", member: "n2"))
        #expect(Self.decide("n1", cluster, Self.primary()).actions == [.renewLeader, .probePeers])
        let d = Self.decide("n1", cluster, Self.primary(streamingTo: ["n2", "n3"]), peers: Self.peers(("n2", 5000), ("n3", 5000)))
        #expect(d.actions == [.renewLeader, .demote(.graceful)] && d.summary == "manual failover: demoting myself")
    }

    /// The shutdown checkpoint reaches only the standbys connected when the leader stops.
    @Test func aSwitchoverWaitsForNoOneButLosesNothing() {
        let cluster = Self.cluster(failover: FailoverRequest(leader: "n1", member: "n2"))
        let d = Self.decide("n1", cluster, Self.primary(streamingTo: ["n3"]), peers: Self.peers(("n2", 5000), ("n3", 5000)))
        #expect(d.actions == [.renewLeader, .clearFailover(version: 9)] && d.reason == .switchoverRefused)
        #expect(d.summary.contains("does not stream from this leader"))
        let anyone = Self.cluster(failover: FailoverRequest(leader: "n1"))
        let e = Self.decide("n1", anyone, Self.primary(streamingTo: ["n3"]), peers: Self.peers(("n2", 5000), ("n3", 5000)))
        #expect(e.actions == [.renewLeader, .demote(.graceful)])
    }

    @Test func aSwitchoverToAnUnfitCandidateIsCleared() {
        let cluster = Self.cluster(failover: FailoverRequest(leader: "n1", member: "n2"))
        let d = Self.decide("n1", cluster, Self.primary(), peers: [.unreachable("n2")] + Self.peers(("n3", 5000)))
        #expect(d.actions == [.renewLeader, .clearFailover(version: 9)] && d.reason == .switchoverRefused)
        let fromSomeoneElse = Self.decide("n1", Self.cluster(failover: FailoverRequest(leader: "n3")), Self.primary())
        #expect(fromSomeoneElse.actions == [.renewLeader, .clearFailover(version: 9)])
    }

    @Test func theNamedCandidateTakesTheKeyAndClearsTheRequest() {
        let cluster = Self.cluster(leader: nil, failover: FailoverRequest(leader: "n1", member: "n2"))
        let d = Self.decide("n2", cluster, Self.replica(wal: 100))
        #expect(d.actions == [.acquireLeader, .clearFailover(version: nil), .promote, .updateStatus])
        let other = Self.decide("n3", cluster, Self.replica(wal: 5000), peers: Self.peers(("n2", 100)))
        #expect(other.actions.isEmpty && other.summary.contains("n2 was asked to take over"))
    }

    @Test func aScheduledSwitchoverWaitsForItsTime() {
        let later = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2027-06-01T08:00:00+00:00")
        let d = Self.decide("n1", Self.cluster(failover: later), Self.primary())
        #expect(d.reason == .switchoverScheduled && d.actions == [.renewLeader, .updateStatus])
        let stale = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2026-01-01T00:00:00+00:00")
        #expect(Self.decide("n1", Self.cluster(failover: stale), Self.primary()).reason == .switchoverRefused)
    }

    @Test func decisionsAreDeterministic() {
        let o = Self.observe("n2", .reachable(Self.cluster(leader: nil)), Self.replica(), peers: Self.peers(("n3", 1)))
        #expect(HAEngine.decide(o) == HAEngine.decide(o))
    }
}

extension HAEngineTests {
    /// After a graceful demotion for a switchover without a named candidate, the old leader
    /// (as far ahead as anyone, thanks to the shutdown checkpoint) must not take the key back.
    @Test func theLeaderThatSteppedDownDoesNotRaceWhileAnotherMemberCanLead() {
        let cluster = Self.cluster(leader: nil, failover: FailoverRequest(leader: "n1"))
        let old = Self.decide("n1", cluster, Self.replica(wal: 5000), peers: Self.peers(("n2", 5000), ("n3", 5000)))
        #expect(old.actions.isEmpty && old.reason == .askedToStepDown)
        // Alone, it may lead again.
        let alone = Self.decide("n1", cluster, Self.replica(wal: 5000), peers: [.unreachable("n2"), .unreachable("n3")])
        #expect(alone.actions.first == .acquireLeader)
        // The others do not wait for it even when it is level with them.
        let other = Self.decide("n2", cluster, Self.replica(wal: 5000), peers: Self.peers(("n1", 5000), ("n3", 4000)))
        #expect(other.actions.first == .acquireLeader)
    }

    /// The candidate fell away after the leader stepped down: those left lack some of its WAL.
    /// It leads again rather than hand over and lose it, and they wait for it.
    @Test func theLeaderThatSteppedDownTakesTheKeyBackWhenNobodyHasAllItsWAL() {
        let cluster = Self.cluster(leader: nil, failover: FailoverRequest(leader: "n1", member: "n2"))
        let old = Self.decide("n1", cluster, Self.replica(wal: 5000), peers: [.unreachable("n2")] + Self.peers(("n3", 4000)))
        #expect(old.actions.first == .acquireLeader)
        let behind = Self.decide("n3", Self.cluster(leader: nil, failover: FailoverRequest(leader: "n1")), Self.replica(wal: 4000),
                                 peers: Self.peers(("n1", 5000), ("n2", 4000)))
        #expect(behind.actions.isEmpty && behind.reason == .notHealthiest)
    }
}

extension HAEngineTests {
    /// A replica just pointed at a leader on a newer timeline gets a moment to start streaming
    /// before it is rewound; after that moment it rejoins (stop, rewind if forked, stream).
    @Test func aReplicaJustPointedAtTheLeaderIsGivenAMomentToStream() {
        var fresh = Self.replica(timeline: 2, streaming: false)
        fresh.followingSince = Self.now - .seconds(2)
        let waiting = Self.decide("n2", Self.cluster(leaderTimeline: 3), fresh)
        #expect(waiting.actions.isEmpty && waiting.reason == .waitingForStream)
        var settled = fresh
        settled.followingSince = Self.now - .seconds(11)
        #expect(Self.decide("n2", Self.cluster(leaderTimeline: 3), settled).actions == [.rejoin(leader: "n1")])
    }

    /// A replica that ran as a primary since it last rejoined (a demoted or cut-off primary,
    /// started read-only with no upstream) has its WAL checked against the new leader's timeline
    /// before it streams; a re-point would leave it retrying a stream the leader refuses if its
    /// WAL went past the branch point. A replica that never led, one that could not be rewound
    /// anyway, and any while paused are re-pointed by a reload.
    @Test func aFormerPrimaryIsCheckedAgainstTheNewLeadersTimeline() {
        var demoted = Self.replica(following: nil, timeline: 3, streaming: false)
        demoted.mayHaveDiverged = true
        let check = Self.decide("n2", Self.cluster(leaderTimeline: 4), demoted, usePgRewind: true)
        #expect(check.actions == [.checkTimeline(leader: "n1")] && check.reason == .changingLeader)
        #expect(Self.decide("n2", Self.cluster(leaderTimeline: 4), demoted, paused: true, usePgRewind: true).actions
                == [.follow(leader: "n1")], "paused, nothing is stopped")
        #expect(Self.decide("n2", Self.cluster(leaderTimeline: 4), demoted).actions == [.follow(leader: "n1")],
                "without pg_rewind nothing could be done about a divergence")
        let plain = Self.decide("n2", Self.cluster(leaderTimeline: 4), Self.replica(following: nil, timeline: 3, streaming: false),
                                usePgRewind: true)
        #expect(plain.actions == [.follow(leader: "n1")] && plain.reason == .changingLeader)
    }
}

extension HAEngineTests {
    /// After `ttl` is raised, the lease in force still has its old TTL until the next renewal:
    /// validity counts with the lease's own TTL.
    @Test func lockValidityFollowsTheLeasesOwnTTL() {
        let lock = LockState(lastConfirmed: Self.now - .seconds(12), leaseTTL: .seconds(10))
        #expect(!lock.isValid(at: Self.now, ttl: .seconds(30)))
        #expect(LockState(lastConfirmed: Self.now - .seconds(12)).isValid(at: Self.now, ttl: .seconds(30)))
        #expect(lock.validUntil(ttl: .seconds(30)) == Self.now - .seconds(2))
        #expect(LockState(lastConfirmed: Self.now, leaseTTL: .seconds(10), lost: true).validUntil(ttl: .seconds(30)) == nil)
    }
}
