import Testing
import VigilCore

/// The primary's deadline held by the machine itself: a cycle that gets past it (a slow store,
/// a slow PostgreSQL, a stalled agent) stops PostgreSQL before anything else, whether or not
/// the fence outside is alive.
@Suite struct LeaseDeadlineTests {
    typealias T = HAMachineTests
    typealias F = FenceMachineTests

    /// ttl 30, margin 2: a renewal sent at t0 holds until t0 + 28.
    static let deadline = T.t0 + .seconds(28)

    /// A leader's cycle up to the step after the fence's arm, every step answered at t0.
    static func leaderAfterArm() -> (HAMachine, Next) {
        var machine = HAMachine()
        var next = machine.observed(T.sighting(F.leader(), T.runningPrimary))
        while case let .perform(action) = next.step {
            let armed: Bool = if case .fence(.arm) = action { true } else { false }
            next = machine.completed(action, action == .renewLeader ? .confirmed(sentAt: T.t0) : .done, at: T.t0)
            if armed { break }
        }
        return (machine, next)
    }

    /// Deadlines travel to the fence in nanoseconds: a duration too long for Int64 saturates.
    @Test func durationsInNanosecondsSaturate() {
        #expect(Duration.milliseconds(1500).inNanoseconds == 1_500_000_000)
        #expect(Duration.seconds(-2).inNanoseconds == -2_000_000_000)
        #expect(Duration.seconds(Int64.max).inNanoseconds == .max)
        #expect(Duration.seconds(Int64.min).inNanoseconds == .min)
    }

    @Test func theDeadlineIsTheFencesOne() {
        let (machine, _) = Self.leaderAfterArm()
        #expect(machine.stopBy == Self.deadline)
        #expect(machine.fence == .arm(until: Self.deadline, watchdog: nil))
    }

    @Test func aStepThatReturnsPastTheDeadlineStopsPostgreSQLFirst() {
        var (machine, next) = Self.leaderAfterArm()
        guard case let .perform(step) = next.step else {
            Issue.record("the cycle ended after the arm: \(next)")
            return
        }
        next = machine.completed(step, .done, at: Self.deadline + .milliseconds(500))
        #expect(next.decided?.reason == .leaseRanOut)
        #expect(next.decided?.summary == "demoting self because the leader lease was not renewed in time (it ends in 1.5 s at most)")
        guard case .perform(.stopPostgres(.fast, _)) = next.step else {
            Issue.record("expected a fast stop, got \(next.step)")
            return
        }
    }

    /// The deadline passing at the cycle's last steps (the member key write on a slow store):
    /// after the demotion, the cycle still ends as a demoted one does, with the fence disarmed,
    /// or the fence would stop the replica just restarted.
    @Test func aDeadlinePassedAtTheMemberKeyWriteStillDisarmsTheFenceAfterTheDemotion() {
        var (machine, next) = Self.leaderAfterArm()
        var late = false
        var steps: [Action] = []
        while case let .perform(action) = next.step, steps.count < 30 {
            steps.append(action)
            let at = late ? Self.deadline + .milliseconds(100) : T.t0
            if case .publishMember = action, !late {
                late = true
                next = machine.completed(action, .failed("timed out"), at: Self.deadline)
                #expect(next.decided?.reason == .leaseRanOut)
                continue
            }
            next = machine.completed(action, .done, at: at)
        }
        let afterStop = steps.drop { if case .stopPostgres = $0 { false } else { true } }
        #expect(afterStop.contains(.fence(.disarm)), "\(steps)")
        #expect(machine.fence == .disarm)
    }

    @Test func aStepInTimeChangesNothing() {
        var (machine, next) = Self.leaderAfterArm()
        guard case let .perform(step) = next.step else { return }
        next = machine.completed(step, .done, at: Self.deadline - .milliseconds(500))
        #expect(next.decided?.reason != .leaseRanOut)
    }

    @Test func aLookThatComesTooLateStopsPostgreSQL() {
        var (machine, next) = Self.leaderAfterArm()
        while case let .perform(action) = next.step { next = machine.completed(action, .done, at: T.t0) }
        // The next cycle starts past the deadline with the store out of reach: no renewal
        // could be tried, PostgreSQL stops before any decision.
        let late = T.sighting(nil, T.runningPrimary, at: Self.deadline + .seconds(1))
        next = machine.observed(late)
        #expect(next.decided?.reason == .leaseRanOut, "\(String(describing: next.decided))")
        guard case .perform(.stopPostgres(.fast, _)) = next.step else {
            Issue.record("expected a fast stop, got \(next.step)")
            return
        }
    }

    @Test func theDeadlineStopsPostgreSQLOncePerCycle() {
        var (machine, next) = Self.leaderAfterArm()
        while case let .perform(action) = next.step { next = machine.completed(action, .done, at: T.t0) }
        let late = Self.deadline + .seconds(1)
        let (steps, decisions, _) = T.run(&machine, from: machine.observed(T.sighting(nil, T.runningPrimary, at: late)), at: late)
        #expect(decisions.filter { $0.reason == .leaseRanOut }.count == 1, "\(decisions)")
        #expect(steps.filter { if case .stopPostgres = $0 { true } else { false } }.count == 1, "\(steps)")
    }

    @Test func pauseHasNoDeadline() {
        var machine = HAMachine()
        var paused = T.settings
        paused.paused = true
        let sighting = T.sighting(F.leader(), T.runningPrimary, settings: paused)
        _ = T.run(&machine, from: machine.observed(sighting), answer: F.renewed)
        #expect(machine.stopBy == nil)
        let late = T.sighting(nil, T.runningPrimary, at: Self.deadline + .seconds(1), settings: paused)
        #expect(machine.observed(late).decided?.reason != .leaseRanOut)
    }
}
