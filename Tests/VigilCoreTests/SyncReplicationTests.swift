import Testing
@testable import VigilCore

/// Synchronous replication's rules: the value of synchronous_standby_names, priority mode's
/// order of changes, quorum mode's transitions (Patroni's own test cases), and who may lead.
@Suite struct SyncReplicationTests {
    /// Quorum mode before a promotion: PostgreSQL waits for the other members as the key's
    /// quorum says, and the key names the new leader with the same voters and quorum, so the
    /// former leader cannot race on as the key's leader if the store is lost right after.
    @Test func aQuorumPromotionNamesItselfInTheKeyFirst() {
        let key = SyncState(leader: "n0", quorum: 1, syncStandby: ["n1", "n2"])
        let steps = SyncReplication.beforePromotion(me: "n1", settings: SyncSettings(mode: .quorum), key: key, managed: true)
        #expect(steps == [.setNames("ANY 1 (n0,n2)"), .writeKey(SyncState(leader: "n1", quorum: 1, syncStandby: ["n0", "n2"]))])
    }

    // MARK: synchronous_standby_names

    @Test func namesAreWrittenAsPatroniWritesThem() {
        #expect(SyncStandbyNames.render(["node2"], quorum: false) == "node2")
        #expect(SyncStandbyNames.render(["node3", "node2"], quorum: false) == "2 (node2,node3)")
        #expect(SyncStandbyNames.render(["b", "c", "d"], num: 2, quorum: true) == "ANY 2 (b,c,d)")
        #expect(SyncStandbyNames.render([], num: 1, quorum: false) == "*")
        #expect(SyncStandbyNames.render([], num: 1, quorum: true) == "ANY 1 (*)")
        #expect(SyncStandbyNames.render([], quorum: false) == nil)
        // Sorted as written (upper case first, as Python sorts), then quoted where needed.
        #expect(SyncStandbyNames.render(["node-2", "first", "Node_3"], quorum: false) == "3 (Node_3,\"first\",\"node-2\")")
    }

    @Test func namesAreReadAsPatroniReadsThem() throws {
        #expect(SyncStandbyNames.parse("")?.kind == .off)
        let first = try #require(SyncStandbyNames.parse("FiRsT"))
        #expect(first.kind == .priority && first.members == ["first"])
        #expect(SyncStandbyNames.parse(" a , b ")?.members == ["a", "b"])
        #expect(SyncStandbyNames.parse(" a , b ")?.num == 1)
        let any = try #require(SyncStandbyNames.parse("ANY 4(\"a\",*,b)"))
        #expect(any.kind == .quorum && any.hasStar && any.num == 4)
        #expect(SyncStandbyNames.parse("2 (node2,node3)")?.num == 2)
        #expect(SyncStandbyNames.parse("\"1\"")?.members == ["1"])
        for broken in ["1", "a,", "ANY 4(\"a\" b,\"c c\")", "FIRST 4(\"a\",)", "2 (,)", "a;b"] {
            #expect(SyncStandbyNames.parse(broken) == nil, "\(broken)")
        }
        // What Vigil writes, it reads back.
        for names in [["n2"], ["n2", "n3"], ["node-2", "x"]] {
            let text = try #require(SyncStandbyNames.render(names, quorum: false))
            #expect(SyncStandbyNames.parse(text)?.members == Set(names.map { $0.lowercased() }))
        }
    }

    // MARK: The sync key as read

    @Test func theSyncKeyMatchesNamesWithoutCase() {
        let s = SyncState(leader: "foo", syncStandby: ["bar", "zoo"])
        #expect(!s.matches("foo") && s.matches("fOo", includingLeader: true))
        #expect(s.matches("Bar") && s.matches("zoO") && !s.matches("baz") && !s.matches(nil))
        #expect(!SyncState(leader: nil, syncStandby: ["foo"]).matches("foo"))
        #expect(s.members == ["foo", "bar", "zoo"] && s.voters == ["bar", "zoo"])
    }

    // MARK: Priority mode

    static func standby(_ name: String, _ state: String, lsn: Int64 = 1000) -> StandbyConnection {
        StandbyConnection(applicationName: name, clientAddress: nil, state: "streaming", syncState: state,
                          sentLSN: lsn, flushLSN: lsn, replayLSN: lsn)
    }

    static func members(_ names: String...) -> [Member] {
        names.map { Member(name: $0, record: MemberRecord(state: "running", role: "replica")) }
    }

    static func plan(names: String, key: SyncState?, replication: [StandbyConnection], strict: Bool = false,
                     memory: inout SyncMemory, flush: Int64 = 1000) -> [SyncStep] {
        memory.saw(names: names, flush: flush)
        let settings = SyncSettings(mode: .priority, strict: strict)
        let picture = memory.picture(me: "n1", replication: replication, members: members("n1", "n2", "n3"), syncKey: key,
                                     settings: settings, synchronousCommit: "on", primaryFlush: flush)
        return PrioritySync.plan(me: "n1", picture: picture, key: key, settings: settings)
    }

    /// A standby goes into synchronous_standby_names first and into the sync key only once it
    /// reports sync and has everything committed before it was listed.
    @Test func aStandbyIsListedInPostgresFirstAndInTheKeyOnceConfirmed() {
        var memory = SyncMemory()
        let first = Self.plan(names: "", key: nil, replication: [Self.standby("n2", "async")], memory: &memory)
        #expect(first == [.writeKey(SyncState(leader: "n1", syncStandby: [])), .setNames("n2"), .awaitConfirmation])
        // Listed at flush 1500; the standby reports sync but has only 1200: not yet.
        let key = SyncState(leader: "n1", syncStandby: [])
        let waiting = Self.plan(names: "n2", key: key, replication: [Self.standby("n2", "sync", lsn: 1200)], memory: &memory,
                                flush: 1500)
        #expect(waiting == [.setNames("n2"), .awaitConfirmation])
        let confirmed = Self.plan(names: "n2", key: key, replication: [Self.standby("n2", "sync", lsn: 1500)], memory: &memory,
                                  flush: 1600)
        // (The value PostgreSQL already runs with is not set again: the machine skips that step.)
        #expect(confirmed == [.setNames("n2"), .writeKey(SyncState(leader: "n1", syncStandby: ["n2"]))])
        let steady = Self.plan(names: "n2", key: SyncState(leader: "n1", syncStandby: ["n2"]),
                               replication: [Self.standby("n2", "sync", lsn: 1600)], memory: &memory, flush: 1600)
        #expect(steady.isEmpty)
    }

    /// A standby that is gone leaves the key before it leaves PostgreSQL; strict mode then waits
    /// for any standby (`*`), non-strict mode for none.
    @Test func aStandbyThatIsGoneLeavesTheKeyFirst() {
        var memory = SyncMemory()
        let key = SyncState(leader: "n1", syncStandby: ["n2"])
        let relaxed = Self.plan(names: "n2", key: key, replication: [], memory: &memory)
        #expect(relaxed == [.writeKey(SyncState(leader: "n1", syncStandby: [])), .setNames(nil)])
        var strictMemory = SyncMemory()
        let strict = Self.plan(names: "n2", key: key, replication: [], strict: true, memory: &strictMemory)
        #expect(strict == [.writeKey(SyncState(leader: "n1", syncStandby: [])), .setNames("*")])
    }

    /// Another member's name in the key (a leader changed) is replaced at once.
    @Test func aKeyNamingAnotherLeaderIsRewritten() {
        var memory = SyncMemory()
        let steps = Self.plan(names: "", key: SyncState(leader: "n3", syncStandby: ["n1"]), replication: [], memory: &memory)
        #expect(steps.first == .writeKey(SyncState(leader: "n1", syncStandby: [])))
    }

    @Test func nosyncMembersAreNeverPicked() {
        var memory = SyncMemory()
        memory.saw(names: "", flush: 1000)
        var nosync = Member(name: "n2", record: MemberRecord(state: "running", role: "replica"))
        nosync.record.tags = ["nosync": true]
        let picture = memory.picture(me: "n1", replication: [Self.standby("n2", "async")], members: [nosync], syncKey: nil,
                                     settings: SyncSettings(mode: .priority), synchronousCommit: "on", primaryFlush: 1000)
        #expect(picture.active.isEmpty)
    }

    // MARK: Quorum mode (Patroni's test_quorum.py)

    static func transitions(leader: String = "a", quorum: Int, voters: String, numsync: Int, sync: String, confirmed: Int,
                            active: String, wanted: Int, leaderWanted: String = "a") -> [String] {
        var r = QuorumResolver(leader: leader, quorum: quorum, voters: voters.map(String.init), numsync: numsync,
                               sync: sync.map(String.init), numsyncConfirmed: confirmed, active: active.map(String.init),
                               syncWanted: wanted, leaderWanted: leaderWanted)
        return r.transitions().map {
            switch $0 {
            case let .quorum(l, q, v): "quorum \(l) \(q) \(v.map { $0.lowercased() }.sorted().joined())"
            case let .sync(n, names): "sync \(n) \(names.map { $0.lowercased() }.sorted().joined())"
            case .restart: "restart"
            }
        }
    }

    @Test func quorumTransitionsAreThoseOfPatroni() {
        #expect(Self.transitions(quorum: 0, voters: "", numsync: 0, sync: "", confirmed: 0, active: "b", wanted: 2)
                == ["sync 1 b", "restart"])
        #expect(Self.transitions(quorum: 0, voters: "", numsync: 1, sync: "b", confirmed: 1, active: "b", wanted: 2)
                == ["quorum a 0 b"])
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 1, active: "b", wanted: 2).isEmpty)
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 1, active: "BC", wanted: 1)
                == ["quorum a 1 bc", "sync 1 bc"])
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 1, active: "bc", wanted: 2)
                == ["sync 2 bc", "quorum a 1 bc"])
        #expect(Self.transitions(quorum: 1, voters: "bc", numsync: 2, sync: "bc", confirmed: 2, active: "bc", wanted: 2)
                == ["quorum a 0 bc"])
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 1, active: "BCdE", wanted: 2)
                == ["sync 2 bc", "quorum a 3 bcde", "sync 2 bcde"])
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 0, active: "", wanted: 1)
                == ["quorum a 0 ", "sync 0 "])
        #expect(Self.transitions(quorum: 0, voters: "b", numsync: 1, sync: "b", confirmed: 0, active: "c", wanted: 1)
                == ["quorum a 0 ", "sync 1 c", "restart"])
        // test_remove_nosync_node, test_swap_sync_node
        #expect(Self.transitions(quorum: 0, voters: "bc", numsync: 2, sync: "bc", confirmed: 1, active: "b", wanted: 2)
                == ["quorum a 0 b", "sync 1 b"])
        #expect(Self.transitions(quorum: 0, voters: "bc", numsync: 2, sync: "bc", confirmed: 1, active: "bd", wanted: 2)
                == ["quorum a 0 b", "sync 2 bd", "quorum a 1 bd"])
    }

    @Test func quorumTransitionsAfterAPromotionAreThoseOfPatroni() {
        // a fails, c gets the votes and promotes.
        #expect(Self.transitions(leader: "a", quorum: 2, voters: "bcd", numsync: 0, sync: "", confirmed: 0, active: "",
                                 wanted: 1, leaderWanted: "c") == ["sync 1 abd", "quorum c 2 abd"])
        // Patroni writes "quorum c 0 b" in the same run; Vigil waits a cycle: under ANY 1 (a,b,d)
        // a commit may be only on a or d, and b alone may lead only once it has confirmed the
        // new value (simulation seed 50967).
        #expect(Self.transitions(leader: "c", quorum: 2, voters: "abd", numsync: 1, sync: "abd", confirmed: 0, active: "b",
                                 wanted: 1, leaderWanted: "c") == ["sync 1 b", "restart"])
        // The next cycle, b confirmed: the key follows.
        #expect(Self.transitions(leader: "c", quorum: 2, voters: "abd", numsync: 1, sync: "b", confirmed: 1, active: "b",
                                 wanted: 1, leaderWanted: "c") == ["quorum c 0 b"])
        #expect(Self.transitions(leader: "c", quorum: 2, voters: "abd", numsync: 1, sync: "abd", confirmed: 0, active: "",
                                 wanted: 1, leaderWanted: "c") == ["quorum c 0 ", "sync 0 "])
        // test_nonsync_promotion
        #expect(Self.transitions(leader: "a", quorum: 1, voters: "bc", numsync: 0, sync: "", confirmed: 0, active: "",
                                 wanted: 1, leaderWanted: "d") == ["sync 2 abc", "quorum d 1 abc"])
        #expect(Self.transitions(leader: "d", quorum: 1, voters: "abc", numsync: 2, sync: "abc", confirmed: 0, active: "bc",
                                 wanted: 1, leaderWanted: "d") == ["sync 2 bc", "quorum d 1 bc", "sync 1 bc"])
    }

    // MARK: Who may lead

    static func syncCluster(leader: String?, sync: SyncState, failover: FailoverRequest? = nil) -> ClusterState {
        var c = HAEngineTests.cluster(leader: leader, failover: failover)
        c.sync = Versioned(sync, version: 11)
        return c
    }

    static func decide(_ me: String, _ cluster: ClusterState, _ postgres: LocalPostgres, peers: [PeerStatus]?,
                       mode: SyncSettings.Mode = .priority) -> Decision {
        var o = HAEngineTests.observe(me, .reachable(cluster), postgres, peers: peers)
        o.settings.sync = SyncSettings(mode: mode)
        return HAEngine.decide(o)
    }

    @Test func inPriorityModeOnlyAListedStandbyRaces() {
        let cluster = Self.syncCluster(leader: nil, sync: SyncState(leader: "n1", syncStandby: ["n2"]))
        let outsider = Self.decide("n3", cluster, HAEngineTests.replica(wal: 9000), peers: HAEngineTests.peers(("n2", 5000)))
        #expect(outsider.reason == .notSynchronous && !outsider.actions.contains(.acquireLeader))
        // The listed one wins even though the outsider has more WAL (it was never acknowledged).
        let listed = Self.decide("n2", cluster, HAEngineTests.replica(wal: 5000), peers: HAEngineTests.peers(("n3", 9000)))
        #expect(listed.reason == .promotedByRace)
        #expect(listed.actions == [.acquireLeader, .prepareSync, .promote, .updateStatus])
        // The former leader ahead of it has only unacknowledged commits: it is not waited for.
        let formerAhead = Self.decide("n2", cluster, HAEngineTests.replica(wal: 5000), peers: HAEngineTests.peers(("n1", 7000)))
        #expect(formerAhead.reason == .promotedByRace)
    }

    @Test func inQuorumModeANewLeaderNeedsEnoughVotes() {
        let cluster = Self.syncCluster(leader: nil, sync: SyncState(leader: "n1", quorum: 1, syncStandby: ["n2", "n3"]))
        let alone = Self.decide("n2", cluster, HAEngineTests.replica(wal: 5000), peers: [.unreachable("n3")], mode: .quorum)
        #expect(alone.reason == .notHealthiest && alone.summary.contains("quorum requirement 1"))
        let voted = Self.decide("n2", cluster, HAEngineTests.replica(wal: 5000), peers: HAEngineTests.peers(("n3", 5000)),
                                mode: .quorum)
        #expect(voted.reason == .promotedByRace)
    }

    @Test func aSwitchoverToAStandbyTheKeyDoesNotListIsCleared() {
        let cluster = Self.syncCluster(leader: "n1", sync: SyncState(leader: "n1", syncStandby: ["n2"]),
                                       failover: FailoverRequest(leader: "n1", member: "n3"))
        let d = Self.decide("n1", cluster, HAEngineTests.primary(), peers: HAEngineTests.peers(("n2", 5000), ("n3", 5000)))
        #expect(d.reason == .switchoverRefused && d.summary.contains("does not match with sync_standbys"))
        #expect(d.actions.contains(.clearFailover(version: 9)))
    }

    @Test func aLeaderManagesSynchronousReplicationEveryCycle() {
        var o = HAEngineTests.observe("n1", .reachable(HAEngineTests.cluster()), HAEngineTests.primary())
        o.settings.sync = SyncSettings(mode: .priority)
        #expect(HAEngine.decide(o).actions == [.renewLeader, .updateStatus, .manageSync])
        o.settings.sync = .off
        #expect(HAEngine.decide(o).actions == [.renewLeader, .updateStatus])
    }
}

/// The machine's side: the order of the shell's steps and the sync key's versions.
@Suite struct SyncMachineTests {
    /// A leader in priority mode with a streaming standby not yet listed: the key is enabled
    /// (compare-and-swap on the version read), PostgreSQL lists the standby, then the cycle ends
    /// early to confirm it; the next cycle, once the standby reports sync and has caught up,
    /// writes it into the key on the version the first write left.
    @Test func aLeaderListsAStandbyInOrderAndComparesVersions() {
        var settings = HAMachineTests.settings
        settings.sync = SyncSettings(mode: .priority)
        var machine = HAMachine(settings: settings)
        var cluster = HAEngineTests.cluster(optime: 5000)
        cluster.leader = LeaderLock(name: "n1", version: 3)
        var status = HAMachineTests.streamingPrimary
        status.synchronousStandbyNames = ""
        let renew: (Action) -> ActionResult = {
            switch $0 {
            case .renewLeader: .confirmed(sentAt: HAMachineTests.t0)
            case .writeSync: .syncWritten(version: 42)
            default: .done
            }
        }
        let first = HAMachineTests.run(&machine, from: machine.observed(HAMachineTests.sighting(cluster, status, settings: settings)),
                                       answer: renew)
        let syncSteps = first.steps.filter { if case .writeSync = $0 { true } else if case .setSyncStandbyNames = $0 { true } else { false } }
        #expect(syncSteps == [.writeSync(SyncState(leader: "n1", syncStandby: []), expectedVersion: nil),
                              .setSyncStandbyNames(.managed("n2"))])
        #expect(first.next == HAMachineTests.t0 + .seconds(2), "the standby is confirmed on a look 2 s later, not a loop_wait later")

        // The next look: PostgreSQL runs with the list, the standby reports sync and has the WAL.
        cluster.sync = Versioned(SyncState(leader: "n1", syncStandby: []), version: 42)
        status.synchronousStandbyNames = "n2"
        status.syncNamesManaged = true
        status.walPosition = 5100
        status.replication[0].syncState = "sync"
        status.replication[0].flushLSN = 5100
        let at = HAMachineTests.t0 + .seconds(2)
        let second = HAMachineTests.run(&machine, from: machine.observed(HAMachineTests.sighting(cluster, status, at: at, settings: settings)),
                                        at: at, answer: renew)
        #expect(second.steps.contains(.writeSync(SyncState(leader: "n1", syncStandby: ["n2"]), expectedVersion: 42)))
        #expect(!second.steps.contains { if case .setSyncStandbyNames = $0 { true } else { false } },
                "a value PostgreSQL already runs with is not set again")
    }

    /// A key written by someone else meanwhile postpones a promotion.
    @Test func aLostCompareAndSwapPostponesThePromotion() {
        var settings = HAMachineTests.settings
        settings.sync = SyncSettings(mode: .priority)
        var machine = HAMachine(settings: settings)
        var cluster = HAEngineTests.cluster(leader: "n2", optime: 5000)
        cluster.sync = Versioned(SyncState(leader: "n1", syncStandby: ["n2"]), version: 7)
        let result = HAMachineTests.run(&machine, from: machine.observed(HAMachineTests.sighting(cluster, HAMachineTests.runningReplica,
                                                                                               me: "n2", settings: settings)),
                                        answer: {
                                            switch $0 {
                                            case .renewLeader: .confirmed(sentAt: HAMachineTests.t0)
                                            case .writeSync: .refused("the sync key changed meanwhile")
                                            default: .done
                                            }
                                        })
        #expect(result.steps.contains(.writeSync(SyncState(leader: "n2", quorum: 0, syncStandby: []), expectedVersion: 7)))
        #expect(!result.steps.contains(.promote))
        #expect(result.decisions.contains { $0.reason == .promotionPostponed })
    }
}
