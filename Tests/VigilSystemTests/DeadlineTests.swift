import Testing
import VigilSystem

/// The one deadline helper: the caller is answered at the deadline even when the work ignores
/// cancellation, and what the work is stuck on is let go first.
@Suite struct DeadlineTests {
    @Test func workThatFinishesInTimeIsAnswered() async throws {
        #expect(try await Deadline.run(within: .seconds(5)) { 42 } == 42)
    }

    @Test func workThatIgnoresCancellationDoesNotHoldTheCaller() async throws {
        let released = Flag()
        let letGo = Flag()
        let ended = Flag()
        await #expect(throws: DeadlinePassed.self) {
            try await Deadline.run(within: .milliseconds(200), onTimeout: { await released.set() }) {
                // Ignores cancellation, as a PostgresNIO query does, and runs on until the test
                // lets it go after the caller was answered (a minute at most, so that a helper
                // that waits for it fails the test instead of hanging it).
                let giveUp = ContinuousClock.now + .seconds(60)
                while !(await letGo.isSet), ContinuousClock.now < giveUp { try? await Task.sleep(for: .milliseconds(20)) }
                await ended.set()
                return 1
            }
        }
        #expect(!(await ended.isSet), "the caller was answered while the work still ran")
        #expect(await released.isSet, "onTimeout ran before the caller was answered")
        await letGo.set()
    }

    @Test func anErrorOfTheWorkReachesTheCaller() async {
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await Deadline.run(within: .seconds(5)) { throw Refused() } }
    }
}

actor Flag {
    private(set) var isSet = false
    func set() { isSet = true }
}
