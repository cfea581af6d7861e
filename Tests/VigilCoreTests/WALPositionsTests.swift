import Testing
import VigilCore

/// `GET /patroni` shows the WAL positions read when it is asked, over the last cycle's view.
@Suite struct WALPositionsTests {
    @Test func livePositionsReplaceTheCyclesOnes() {
        var status = PostgresStatus(state: .running, role: .replica, timeline: 3, walPosition: 100, receiveLSN: 100, replayLSN: 90)
        status.update(with: WALPositions(role: .replica, walPosition: 250, receiveLSN: 250, replayLSN: 240))
        #expect(status.walPosition == 250 && status.receiveLSN == 250 && status.replayLSN == 240)
        #expect(status.timeline == 3)
    }

    /// A server that changed role since the cycle (promoted, demoted) or is not running keeps the
    /// cycle's view whole: positions of one role are not shown under the other.
    @Test func anotherRoleOrAStoppedServerKeepsTheCyclesView() {
        let replica = PostgresStatus(state: .running, role: .replica, walPosition: 100, receiveLSN: 100, replayLSN: 100)
        var promoted = replica
        promoted.update(with: WALPositions(role: .primary, walPosition: 300, receiveLSN: nil, replayLSN: nil))
        #expect(promoted == replica)
        var stopped = PostgresStatus(state: .stopped, role: .replica, walPosition: 100)
        stopped.update(with: WALPositions(role: .replica, walPosition: 300, receiveLSN: 300, replayLSN: 300))
        #expect(stopped.walPosition == 100)
    }

    /// An unknown position in the live answer leaves the known one.
    @Test func aMissingLivePositionKeepsTheKnownOne() {
        var status = PostgresStatus(state: .running, role: .replica, walPosition: 100, receiveLSN: 100, replayLSN: 100)
        status.update(with: WALPositions(role: .replica, walPosition: 120, receiveLSN: nil, replayLSN: 120))
        #expect(status.receiveLSN == 100 && status.replayLSN == 120)
    }
}
