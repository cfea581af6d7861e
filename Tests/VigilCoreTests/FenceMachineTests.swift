import Testing
import VigilCore

/// What the machine tells the fence outside the agent: armed with the lease's end less the
/// margin after every confirmation, disarmed once there is no primary left to guard.
@Suite struct FenceMachineTests {
    typealias T = HAMachineTests
    static let deadline = T.t0 + .seconds(30) - FenceOrder.margin

    static func leader() -> ClusterState {
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        return cluster
    }

    static func renewed(_ action: Action) -> ActionResult { action == .renewLeader ? .confirmed(sentAt: T.t0) : .done }

    /// Armed leader after one cycle.
    static func armedLeader() -> HAMachine {
        var machine = HAMachine()
        _ = T.run(&machine, from: machine.observed(T.sighting(leader(), T.runningPrimary)), answer: renewed)
        return machine
    }

    @Test func everyConfirmedRenewalArmsTheFenceBeforeAnythingElse() {
        var machine = HAMachine()
        let (steps, _, _) = T.run(&machine, from: machine.observed(T.sighting(Self.leader(), T.runningPrimary)), answer: Self.renewed)
        #expect(steps.prefix(2) == [.renewLeader, .fence(.arm(until: Self.deadline, watchdog: nil))])
        #expect(machine.fence == .arm(until: Self.deadline, watchdog: nil))
    }

    @Test func aTakeoverArmsTheFenceBeforeThePromotion() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(leader: nil)
        let replica = T.sighting(cluster, T.runningReplica, files: .present(role: .replica, systemID: "7000"))
        let (steps, _, _) = T.run(&machine, from: machine.observed(replica),
                                  answer: { action in
                                      switch action {
                                      case .askPeers: .peers([])
                                      case .acquireLeader: .confirmed(sentAt: T.t0)
                                      default: .done
                                      }
                                  },
                                  look: { replica })
        let armed = steps.firstIndex(of: .fence(.arm(until: Self.deadline, watchdog: nil)))
        let promoted = steps.firstIndex(of: .promote)
        #expect(armed != nil && promoted != nil && armed! < promoted!, "\(steps)")
    }

    @Test func aFenceThatCannotBeArmedIsNotCountedAsArmed() {
        var machine = HAMachine()
        let (steps, _, _) = T.run(&machine, from: machine.observed(T.sighting(Self.leader(), T.runningPrimary)),
                                  answer: { action in
                                      if action == .renewLeader { return .confirmed(sentAt: T.t0) }
                                      if case .fence = action { return .failed("no fence answers") }
                                      return .done
                                  })
        #expect(machine.fence == .disarm)
        #expect(steps.last == .publishMember(extendingLease: true), "the cycle goes on")
    }

    @Test func aDemotionDisarmsTheFenceOnceDone() {
        var machine = Self.armedLeader()
        // Someone else leads now: demoted at once, then the fence guards nothing.
        let later = T.t0 + .seconds(10)
        let (steps, _, _) = T.run(&machine, from: machine.observed(T.sighting(HAEngineTests.cluster(leader: "n2"), T.runningPrimary,
                                                                             at: later)),
                                  at: later)
        #expect(steps.contains(.stopPostgres(.immediate, timeout: HAEngine.immediateStopBudget)))
        #expect(steps.contains(.fence(.disarm)))
        #expect(machine.fence == .disarm)
    }

    @Test func aDemotionThatCannotStopPostgreSQLLeavesTheDeadlineStanding() {
        var machine = Self.armedLeader()
        let later = T.t0 + .seconds(10)
        _ = T.run(&machine, from: machine.observed(T.sighting(HAEngineTests.cluster(leader: "n2"), T.runningPrimary, at: later)),
                  at: later,
                  answer: { action in
                      switch action {
                      case .stopPostgres, .killPostmaster: .failed("still there")
                      default: .done
                      }
                  })
        #expect(machine.fence == .arm(until: Self.deadline, watchdog: nil))
    }

    @Test func pauseDisarmsTheFence() {
        var machine = Self.armedLeader()
        var paused = T.settings
        paused.paused = true
        let later = T.t0 + .seconds(10)
        let (steps, _, _) = T.run(&machine, from: machine.observed(T.sighting(Self.leader(), T.runningPrimary, at: later,
                                                                             settings: paused)),
                                  at: later, answer: { $0 == .renewLeader ? .confirmed(sentAt: later) : .done })
        #expect(!steps.contains { if case .fence(.arm) = $0 { true } else { false } })
        #expect(steps.contains(.fence(.disarm)) && machine.fence == .disarm)
    }

    @Test func aFenceLeftArmedByAPreviousAgentIsDisarmedByAReplica() {
        var machine = HAMachine()
        machine.fenceFoundArmed()
        let replica = T.sighting(HAEngineTests.cluster(leader: "n2"), T.runningReplica, files: .present(role: .replica, systemID: "7000"))
        let (steps, _, _) = T.run(&machine, from: machine.observed(replica))
        #expect(steps.contains(.fence(.disarm)) && machine.fence == .disarm)
        // A replica with nothing armed never talks to a fence.
        let (again, _, _) = T.run(&machine, from: machine.observed(replica))
        #expect(!again.contains { if case .fence = $0 { true } else { false } })
    }

    @Test func shutdownDisarmsOncePostgreSQLIsGone() {
        var machine = Self.armedLeader()
        let (steps, _, _) = T.run(&machine, from: machine.shutdown(at: T.t0))
        #expect(steps == [.stopPostgres(.fast, timeout: .seconds(60)), .fence(.disarm), .releaseLeader, .refreshPostgres,
                          .publishMember(extendingLease: false)])
    }
}

/// What a new agent does with a PostgreSQL its predecessor left running.
@Suite struct LeftoverServerTests {
    @Test(arguments: [
        (true, false, false, LeftoverServer.Verdict.keep),   // a replica cannot take writes
        (false, true, false, .keep),                          // a primary its fence guards
        (false, false, true, .keep),                          // pause: the operator's
        (false, false, false, .stop),                         // a primary nothing guards
    ])
    func keptOnlyWhenItCannotBecomeASecondPrimary(replica: Bool, fenceArmed: Bool, paused: Bool, verdict: LeftoverServer.Verdict) {
        #expect(LeftoverServer.verdict(runsAsReplica: replica, fenceArmed: fenceArmed, paused: paused) == verdict)
    }
}
