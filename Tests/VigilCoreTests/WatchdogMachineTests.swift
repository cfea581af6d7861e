import Testing
import VigilCore

/// The watchdog section as the machine applies it: Patroni's timeout, the timeout carried to
/// the fence with every arm, and a required watchdog that cannot start keeping a member from
/// leading (Patroni's enforce_primary_role).
@Suite struct WatchdogMachineTests {
    typealias T = HAMachineTests
    typealias F = FenceMachineTests

    static func settings(_ mode: WatchdogPolicy.Mode) -> EngineSettings {
        var settings = T.settings
        settings.watchdog = WatchdogPolicy(mode: mode)
        return settings
    }

    @Test func theTimeoutIsPatronis() {
        let timings = HATimings(ttl: 30, loopWait: 10, retryTimeout: 10)
        #expect(WatchdogPolicy(mode: .automatic).deviceTimeout(timings) == 25, "ttl - safety_margin")
        #expect(WatchdogPolicy(mode: .required, safetyMargin: -1).deviceTimeout(timings) == 15, "ttl // 2")
        #expect(WatchdogPolicy(mode: .automatic, safetyMargin: 25).deviceTimeout(timings) == nil, "5 s does not outlast loop_wait 10 s")
        #expect(WatchdogPolicy(mode: .off).deviceTimeout(timings) == nil)
        #expect(WatchdogPolicy.Mode(parsing: "Require") == .required && WatchdogPolicy.Mode(parsing: "auto") == .automatic)
        #expect(WatchdogPolicy.Mode(parsing: "false") == .off && WatchdogPolicy.Mode(parsing: "maybe") == .off)
        #expect(WatchdogPolicy.Mode(recognizing: "maybe") == nil)
    }

    @Test func everyArmCarriesTheDeviceTimeout() {
        var machine = HAMachine()
        let sighting = T.sighting(F.leader(), T.runningPrimary, settings: Self.settings(.automatic))
        let (steps, _, _) = T.run(&machine, from: machine.observed(sighting), answer: F.renewed)
        #expect(steps.prefix(2) == [.renewLeader, .fence(.arm(until: F.deadline, watchdog: 25))])
    }

    /// A takeover whose fence answers that the watchdog did not start.
    static func takeover(_ mode: WatchdogPolicy.Mode) -> (steps: [Action], decisions: [Decision], machine: HAMachine) {
        var machine = HAMachine()
        let replica = T.sighting(HAEngineTests.cluster(leader: nil), T.runningReplica,
                                 files: .present(role: .replica, systemID: "7000"), settings: settings(mode))
        let (steps, decisions, _) = T.run(&machine, from: machine.observed(replica),
                                          answer: { action in
                                              switch action {
                                              case .askPeers: .peers([])
                                              case .acquireLeader: .confirmed(sentAt: T.t0)
                                              case .fence(.arm): .watchdogFailed("cannot open /dev/watchdog: No such file or directory")
                                              default: .done
                                              }
                                          },
                                          look: { replica })
        return (steps, decisions, machine)
    }

    @Test func aRequiredWatchdogThatDoesNotStartStopsThePromotion() {
        let (steps, decisions, machine) = Self.takeover(.required)
        #expect(!steps.contains(.promote), "\(steps)")
        #expect(steps.contains(.releaseLeader))
        let refusal = decisions.first { $0.reason == .watchdogFailed }
        #expect(refusal?.summary == "Not promoting self because watchdog could not be activated: cannot open /dev/watchdog: No such file or directory")
        #expect(machine.fence == .disarm, "nothing left to guard once the key is given back")
    }

    @Test func anAutomaticWatchdogThatDoesNotStartChangesNothing() {
        let (steps, decisions, machine) = Self.takeover(.automatic)
        #expect(steps.contains(.promote), "\(steps)")
        #expect(!decisions.contains { $0.reason == .watchdogFailed })
        #expect(machine.fence == .arm(until: F.deadline, watchdog: 25), "the fence is armed without its watchdog")
    }

    @Test func aPrimaryWhoseRequiredWatchdogFailsStepsDownAtOnce() {
        var machine = HAMachine()
        let sighting = T.sighting(F.leader(), T.runningPrimary, settings: Self.settings(.required))
        let (steps, decisions, _) = T.run(&machine, from: machine.observed(sighting),
                                          answer: { action in
                                              if action == .renewLeader { return .confirmed(sentAt: T.t0) }
                                              if case .fence(.arm) = action { return .watchdogFailed("the device went away") }
                                              return .done
                                          })
        #expect(decisions.contains { $0.summary == "Demoting self because watchdog could not be activated: the device went away" })
        #expect(steps.contains(.stopPostgres(.immediate, timeout: HAEngine.immediateStopBudget)))
        #expect(steps.contains(.releaseLeader))
        #expect(machine.lock.validUntil(ttl: .seconds(30)) == nil)
    }

    @Test func aMemberWhoseRequiredWatchdogIsUnusableDoesNotRace() {
        var me = MemberIdentity(name: "n1")
        me.watchdogFailed = true
        #expect(!me.mayRace)
        var machine = HAMachine()
        // The shell found no usable device; the machine draws the conclusion.
        var replica = T.sighting(HAEngineTests.cluster(leader: nil), T.runningReplica,
                                 files: .present(role: .replica, systemID: "7000"), settings: Self.settings(.required))
        replica.watchdogDeviceUsable = false
        let (steps, decisions, _) = T.run(&machine, from: machine.observed(replica), answer: { _ in .peers([]) }, look: { replica })
        #expect(machine.observation?.me.watchdogFailed == true)
        #expect(!steps.contains(.acquireLeader))
        #expect(decisions.first?.summary.contains("the watchdog this member requires is not usable") == true, "\(decisions)")
        var automatic = replica
        automatic.settings = Self.settings(.automatic)
        _ = machine.observed(automatic)
        #expect(machine.observation?.me.watchdogFailed == false, "automatic mode goes without a device")
    }

    /// A device that failed to start keeps a required member from racing, as the fence will
    /// not retry it, until the watchdog section changes.
    @Test func aFailureIsRememberedUntilTheSectionChanges() {
        var (_, _, machine) = Self.takeover(.required)
        #expect(machine.watchdogFailure == "cannot open /dev/watchdog: No such file or directory")
        let replica = T.sighting(HAEngineTests.cluster(leader: nil), T.runningReplica,
                                 files: .present(role: .replica, systemID: "7000"), settings: Self.settings(.required))
        let (steps, _, _) = T.run(&machine, from: machine.observed(replica), answer: { _ in .peers([]) }, look: { replica })
        #expect(machine.observation?.me.watchdogFailed == true)
        #expect(!steps.contains(.acquireLeader), "\(steps)")
        machine.watchdogSectionChanged()
        _ = T.run(&machine, from: machine.observed(replica), answer: { _ in .peers([]) }, look: { replica })
        #expect(machine.watchdogFailure == nil && machine.observation?.me.watchdogFailed == false)
    }
}
