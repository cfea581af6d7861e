import Testing
import VigilSystem

/// The one deadline helper: the caller is answered at the deadline even when the work ignores
/// cancellation, and what the work is stuck on is let go first.
@Suite struct DeadlineTests {
    @Test func workThatFinishesInTimeIsAnswered() async throws {
        #expect(try await Deadline.run(within: .seconds(5)) { 42 } == 42)
    }

    @Test func workThatIgnoresCancellationDoesNotHoldTheCaller() async throws {
        let began = ContinuousClock.now
        let released = Flag()
        await #expect(throws: DeadlinePassed.self) {
            try await Deadline.run(within: .milliseconds(200), onTimeout: { await released.set() }) {
                // Ignores cancellation, as a PostgresNIO query does.
                while !(await released.isSet) { try? await Task.sleep(for: .milliseconds(20)) }
                return 1
            }
        }
        #expect(ContinuousClock.now - began < .seconds(3))
        #expect(await released.isSet, "onTimeout ran before the caller was answered")
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
