import Testing
import VigilDCS

/// A primary whose store answers slowly: each call takes most of its retry_timeout, so the
/// lease is renewed late or not at all. Whatever the answers, its PostgreSQL must stop taking
/// writes by the deadline the fence holds, and the agent itself must do it (its calls are cut
/// short at the deadline and the machine stops PostgreSQL), not a retry_timeout after it.
@Suite struct SlowStoreTests {
    @Test(arguments: [1_900, 2_700, 3_500] as [Int64])
    func aPrimaryWithASlowStoreStopsByItsOwnDeadline(latencyMilliseconds: Int64) async {
        // Seed 0: two nodes, asynchronous replication, no faults but the one below.
        let sim = SimCluster(seed: 0, size: 2, keepLog: true)
        for _ in 0..<30 { await Self.step(sim) }
        guard let leader = sim.nodes.first(where: { $0.server.isPrimary }) else {
            Issue.record("no primary after 30 s:\n\(sim.log.all.suffix(30).joined(separator: "\n"))")
            return
        }
        sim.note("FAULT: the store answers \(leader.name) slowly (\(latencyMilliseconds) ms a call)")
        leader.connection.faults = StoreFaults(latency: .milliseconds(latencyMilliseconds))

        let faultAt = sim.now
        for _ in 0..<60 where leader.server.isPrimary { await Self.step(sim) }
        let log = sim.log.all.suffix(40).joined(separator: "\n")
        guard let stoppedAt = leader.server.stoppedAsPrimaryAt, stoppedAt >= faultAt else {
            Issue.record("the primary never stopped, its store answering in \(latencyMilliseconds) ms:\n\(log)")
            return
        }
        // Stopped exactly at the deadline is in time: the fence acts at that moment too.
        let deadline = leader.fence.deadline(at: stoppedAt)
        #expect(deadline.map { stoppedAt <= $0 } ?? false,
                "\(leader.name) stopped at \(stoppedAt), its deadline was \(String(describing: deadline))\n\(log)")
        // Slow as it is, the node may lead again (it may have the most WAL); every time, its own
        // agent stops it in time, and never does the fence have to (nor stop the replica the
        // agent restarted).
        for _ in 0..<30 { await Self.step(sim) }
        #expect(leader.fence.firings == 0, "the fence had to stop \(leader.name): its agent missed its deadline\n\(sim.log.all.suffix(40).joined(separator: "\n"))")
        if let again = leader.server.stoppedAsPrimaryAt, again > stoppedAt {
            #expect(leader.fence.deadline(at: again).map { again <= $0 } ?? false, "stopped again at \(again)")
        }
    }

    /// One simulated second, as SimSchedule steps it (without its faults and checks).
    static func step(_ sim: SimCluster) async {
        await sim.beginSecond()
        await sim.runAgents(at: sim.now)
        sim.betweenCycles()
    }
}
