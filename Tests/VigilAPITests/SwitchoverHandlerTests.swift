import Testing
@testable import VigilAPI
import VigilCore

/// `POST /switchover`, `POST /failover` and `DELETE /switchover` against an in-memory store:
/// Patroni's pre-checks (412), the write of the `failover` key, the poll for the outcome, and
/// the deletion of a scheduled switchover (spec §1.5).
@Suite struct SwitchoverHandlerTests {
    typealias FailoverWrite = FakeClusterControl.Write<FailoverRequest>

    func post(_ store: FakeClusterControl, _ body: JSONValue, failover: Bool = false, paused: Bool = false) async -> (Int, String) {
        await SwitchoverHandler(control: store, paused: paused).post(body, failover: failover)
    }

    // MARK: - 412 pre-checks (immediate requests only)

    @Test func aLeaderNameThatDoesNotHoldTheLockIsRefused() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2"), Sample.replica("n3")])
        #expect(await post(store, ["leader": "n2", "candidate": "n3"]) == (412, "leader name does not match"))
        // A refused request must never reach the store: the leader would act on it.
        #expect(await store.failoverWrites.isEmpty)
    }

    @Test func aLeaderNamedWhileNobodyHoldsTheLockIsRefused() async {
        var cluster = Sample.threeNodes()
        cluster.leader = nil
        let store = FakeClusterControl(cluster, peers: [Sample.replica("n2")])
        #expect(await post(store, ["leader": "n1", "candidate": "n2"]) == (412, "leader name does not match"))
        #expect(await store.failoverWrites.isEmpty)
    }

    @Test func aCandidateThatIsNotAMemberIsRefused() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2"), Sample.replica("n3")])
        #expect(await post(store, ["leader": "n1", "candidate": "n9"]) == (412, "candidate does not exists"))
        // The failover spelling, and `member` as the alias Patroni accepts for `candidate`.
        #expect(await post(store, ["candidate": "n9"], failover: true) == (412, "candidate does not exists"))
        #expect(await post(store, ["leader": "n1", "member": "n9"]) == (412, "candidate does not exists"))
        #expect(await store.failoverWrites.isEmpty)
        #expect(await store.probed.isEmpty, "a missing candidate is refused before any peer is asked")
    }

    /// In priority synchronous mode a switchover goes only to a member the sync key lists
    /// (Patroni's 412s); a failover may name any member, and quorum mode restricts neither.
    @Test func inSynchronousModeASwitchoverGoesOnlyToASynchronousStandby() async {
        var cluster = Sample.threeNodes(config: Versioned(["synchronous_mode": true], version: 1))
        cluster.sync = Versioned(SyncState(leader: "n1", syncStandby: ["n2"]), version: 4)
        let store = FakeClusterControl(cluster, peers: [Sample.replica("n2"), Sample.replica("n3")])
        #expect(await post(store, ["leader": "n1", "candidate": "n3"]) == (412, "candidate name does not match with sync_standby"))
        #expect(await store.failoverWrites.isEmpty)
        cluster.sync = Versioned(SyncState(leader: "n1", syncStandby: []), version: 5)
        let none = FakeClusterControl(cluster, peers: [Sample.replica("n2"), Sample.replica("n3")])
        #expect(await post(none, ["leader": "n1"]) == (412, "switchover is not possible: can not find sync_standby"))
        cluster.config = Versioned(["synchronous_mode": "quorum"], version: 2)
        let quorum = FakeClusterControl(cluster, peers: [Sample.replica("n2"), Sample.replica("n3")])
        let refusal = await SwitchoverHandler(control: quorum, paused: false).precheck(cluster, leader: "n1", candidate: "n3",
                                                                                        action: "switchover")
        #expect(refusal == nil)
    }

    @Test func aClusterOfTheLeaderAloneCannotSwitchOver() async {
        let alone = ClusterState(leader: LeaderLock(name: "n1"), members: [Sample.member("n1", role: "primary")])
        let store = FakeClusterControl(alone)
        #expect(await post(store, ["leader": "n1"])
            == (412, "switchover is not possible: cluster does not have members except leader"))
        #expect(await store.failoverWrites.isEmpty)
    }

    /// The ways a peer fails Patroni's `failover_limitation()`: not reachable (including a
    /// PostgreSQL that is not running), nofailover (a failed watchdog reads the same), and
    /// failover_priority 0, which Patroni's tags turn into nofailover.
    enum Unfit: String, CaseIterable, Sendable {
        case unreachable, nofailover, priorityZero

        func status(_ name: String) -> PeerStatus {
            switch self {
            case .unreachable: PeerStatus.unreachable(name)
            case .nofailover: PeerStatus(name: name, reachable: true, inRecovery: true, walPosition: 5000, nofailover: true, failoverPriority: 0)
            case .priorityZero: PeerStatus(name: name, reachable: true, inRecovery: true, walPosition: 5000, failoverPriority: 0)
            }
        }
    }

    @Test(arguments: Unfit.allCases)
    func noGoodCandidateIsRefusedBeforeAnythingIsWritten(_ unfit: Unfit) async {
        let peers = [unfit.status("n2"), unfit.status("n3")]

        let switchover = FakeClusterControl(Sample.threeNodes(), peers: peers)
        #expect(await post(switchover, ["leader": "n1"])
            == (412, "switchover is not possible: no good candidates have been found"))
        // Without a candidate every member but the leader is asked; the leader never is.
        #expect(await switchover.probed == ["n2", "n3"])
        #expect(await switchover.failoverWrites.isEmpty)

        let failover = FakeClusterControl(Sample.threeNodes(), peers: peers)
        #expect(await post(failover, ["candidate": "n2"], failover: true)
            == (412, "failover is not possible: no good candidates have been found"))
        #expect(await failover.failoverWrites.isEmpty)
    }

    @Test func aNamedCandidateIsJudgedAloneEvenIfAnotherMemberIsFit() async {
        // n3 could take over, but the operator asked for n2, which cannot.
        let store = FakeClusterControl(Sample.threeNodes(), peers: [.unreachable("n2"), Sample.replica("n3")])
        #expect(await post(store, ["leader": "n1", "candidate": "n2"])
            == (412, "switchover is not possible: no good candidates have been found"))
        #expect(await store.probed == ["n2"])
        #expect(await store.failoverWrites.isEmpty)
    }

    @Test func aStoreThatCannotBeReadIsA503() async {
        let store = FakeClusterControl(Sample.threeNodes(), failReads: true)
        let (code, _) = await post(store, ["leader": "n1"])
        #expect(code == 503)
        #expect(await store.failoverWrites.isEmpty)
    }

    // MARK: - 400s that need no store

    @Test func aPausedClusterRefusesWhatItCannotDo() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2")])
        #expect(await post(store, ["leader": "n1", "candidate": "n2", "scheduled_at": "2099-01-01T00:00:00+00:00"], paused: true)
            == (400, "Can't schedule switchover in the paused state"))
        #expect(await post(store, ["leader": "n1"], paused: true)
            == (400, "Switchover is possible only to a specific candidate in a paused state"))
        #expect(await post(store, ["candidate": "n2", "scheduled_at": "2099-01-01T00:00:00+00:00"], failover: true)
            == (400, "Failover can't be scheduled"))
        #expect(await store.failoverWrites.isEmpty)
    }

    // MARK: - Writing the request and waiting for the outcome (each polls once, about 1 s)

    @Test func aGoodSwitchoverWritesTheKeyAndReportsTheNewLeader() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2"), Sample.replica("n3")],
                                       outcome: .leaderChanges(to: "n2"))
        #expect(await post(store, ["leader": "n1", "candidate": "n2"]) == (200, #"Successfully switched over to "n2""#))
        // Written unconditionally (no compare-and-swap), with the leader and the candidate as `member`.
        let expected: [FailoverWrite] = [FailoverWrite(value: FailoverRequest(leader: "n1", member: "n2"), expectedVersion: nil)]
        #expect(await store.failoverWrites == expected)
        #expect(await store.probed == ["n2"])
    }

    @Test func oneFitMemberIsEnoughForASwitchoverWithoutACandidate() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [.unreachable("n2"), Sample.replica("n3")],
                                       outcome: .leaderChanges(to: "n3"))
        #expect(await post(store, ["leader": "n1"]) == (200, #"Successfully switched over to "n3""#))
        let expected: [FailoverWrite] = [FailoverWrite(value: FailoverRequest(leader: "n1"), expectedVersion: nil)]
        #expect(await store.failoverWrites == expected)
    }

    @Test func aFailoverToACandidateReportsAFailover() async {
        // Failover is for a cluster without a working leader: nobody holds the lock.
        var cluster = Sample.threeNodes()
        cluster.leader = nil
        let store = FakeClusterControl(cluster, peers: [Sample.replica("n2")], outcome: .leaderChanges(to: "n2"))
        #expect(await post(store, ["candidate": "n2"], failover: true) == (200, #"Successfully failed over to "n2""#))
        let expected: [FailoverWrite] = [FailoverWrite(value: FailoverRequest(member: "n2"), expectedVersion: nil)]
        #expect(await store.failoverWrites == expected)
    }

    @Test func aFailoverThatNamesTheLeaderIsASwitchover() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2")], outcome: .leaderChanges(to: "n2"))
        #expect(await post(store, ["leader": "n1", "candidate": "n2"], failover: true)
            == (200, #"Successfully switched over to "n2""#))
    }

    @Test func anotherMemberTakingOverIsReportedAsSuch() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2"), Sample.replica("n3")],
                                       outcome: .leaderChanges(to: "n3"))
        #expect(await post(store, ["leader": "n1", "candidate": "n2"]) == (200, #"Switched over to "n3" instead of "n2""#))
    }

    @Test func aRequestClearedWithoutANewLeaderFailed() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2")], outcome: .requestCleared)
        #expect(await post(store, ["leader": "n1", "candidate": "n2"]) == (503, "Switchover failed"))
        #expect(await store.failoverWrites.count == 1)
    }

    @Test func aFailedWriteIsA503WithPatronisMessage() async {
        let store = FakeClusterControl(Sample.threeNodes(), peers: [Sample.replica("n2")], failWrites: true)
        #expect(await post(store, ["leader": "n1", "candidate": "n2"]) == (503, "failed to write failover key into DCS"))
    }

    // MARK: - Scheduled switchovers

    @Test func aScheduledSwitchoverIsWrittenWithItsTimeAndSkipsThePreCheck() async {
        // Every peer is down now; a scheduled request is checked when it is due, not when it is made.
        let store = FakeClusterControl(Sample.threeNodes())
        let at = "2099-01-01T00:00:00+00:00"
        #expect(await post(store, ["leader": "n1", "candidate": "n2", "scheduled_at": .string(at)]) == (202, "Switchover scheduled"))
        let expected: [FailoverWrite] = [FailoverWrite(value: FailoverRequest(leader: "n1", member: "n2", scheduledAt: at), expectedVersion: nil)]
        #expect(await store.failoverWrites == expected)
        #expect(await store.probed.isEmpty)
    }

    @Test func aScheduleInThePastOrUnreadableIsA422() async {
        let store = FakeClusterControl(Sample.threeNodes())
        #expect(await post(store, ["leader": "n1", "scheduled_at": "2020-01-01T00:00:00+00:00"])
            == (422, "Can't schedule switchover in the past"))
        let (code, _) = await post(store, ["leader": "n1", "scheduled_at": "next tuesday"])
        #expect(code == 422)
        #expect(await store.failoverWrites.isEmpty)
    }

    // MARK: - DELETE /switchover

    @Test func deletingWhenNothingIsScheduledIsA404() async {
        let none = FakeClusterControl(Sample.threeNodes())
        #expect(await SwitchoverHandler(control: none, paused: false).delete() == (404, "no switchover is scheduled"))
        // An immediate request in flight is not a scheduled switchover either.
        let immediate = FakeClusterControl(Sample.threeNodes(failover: Versioned(FailoverRequest(leader: "n1", member: "n2"), version: 9)))
        #expect(await SwitchoverHandler(control: immediate, paused: false).delete() == (404, "no switchover is scheduled"))
        #expect(await none.failoverWrites.isEmpty)
        #expect(await immediate.failoverWrites.isEmpty)
    }

    @Test func deletingAScheduledSwitchoverClearsTheKeyByCompareAndSwap() async {
        let scheduled = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2099-01-01T00:00:00+00:00")
        let store = FakeClusterControl(Sample.threeNodes(failover: Versioned(scheduled, version: 9)))
        #expect(await SwitchoverHandler(control: store, paused: false).delete() == (200, "scheduled switchover deleted"))
        // Cleared as Patroni clears it: `{}` written against the version that was read.
        let expected: [FailoverWrite] = [FailoverWrite(value: FailoverRequest(), expectedVersion: 9)]
        #expect(await store.failoverWrites == expected)
        #expect(await store.cluster.failover?.value == FailoverRequest())
    }

    @Test func deletingARequestThatChangedMeanwhileIsA409() async {
        let scheduled = FailoverRequest(leader: "n1", member: "n2", scheduledAt: "2099-01-01T00:00:00+00:00")
        let replacement = FailoverRequest(leader: "n1", member: "n3", scheduledAt: "2099-01-02T00:00:00+00:00")
        let store = FakeClusterControl(Sample.threeNodes(failover: Versioned(scheduled, version: 9)), concurrentFailover: replacement)
        let (code, _) = await SwitchoverHandler(control: store, paused: false).delete()
        #expect(code == 409)
        // The other writer's request survives.
        #expect(await store.cluster.failover?.value == replacement)
    }
}
