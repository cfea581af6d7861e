import Foundation
import Testing
import VigilCore
import VigilPostgres
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Replicas, promotion, demotion and rewind on real PostgreSQL 18.
@Suite struct ReplicationTests {
    @Test func aReplicaStreamsThroughItsSlot() async throws {
        try await TestNode.with(["postgres104", "postgres105"]) { nodes in
            let (primary, replica) = (nodes[0], nodes[1])
            _ = try await primary.instance.bootstrap()
            try await primary.instance.ensureSlots(for: ["postgres104", "postgres105"])
            try await replica.instance.createReplica(from: primary.address)
            _ = try await primary.instance.query("CREATE TABLE t (id int PRIMARY KEY, note text)")
            _ = try await primary.instance.query("INSERT INTO t VALUES (1, 'written on the primary')")
            #expect(try await replica.waitFor("SELECT note FROM t WHERE id = 1", toReturn: "written on the primary"))

            let replicaStatus = await replica.instance.observe()
            #expect(replicaStatus.role == .replica && replicaStatus.replicationState == "streaming")
            #expect(replicaStatus.timeline == 1)
            let primaryStatus = await primary.instance.observe()
            #expect(primaryStatus.role == .primary && primaryStatus.timeline == 1)
            #expect(primaryStatus.slots.map(\.name) == ["postgres105"])
            #expect(primaryStatus.slots.first?.active == true, "the replica streams through its slot")
            #expect(primaryStatus.replication.first?.applicationName == "postgres105")
            #expect(primaryStatus.replication.first?.state == "streaming")
        }
    }

    @Test func switchoverWithoutRewindThenFailoverWithRewind() async throws {
        try await TestNode.with(["a", "b"]) { nodes in
            let (a, b) = (nodes[0], nodes[1])
            _ = try await a.instance.bootstrap()
            try await a.instance.ensureSlots(for: ["b"])
            try await b.instance.createReplica(from: a.address)
            _ = try await a.instance.query("CREATE TABLE t (id int PRIMARY KEY)")
            _ = try await a.instance.query("INSERT INTO t VALUES (1)")
            #expect(try await b.waitFor("SELECT count(*)::text FROM t", toReturn: "1"))

            // Clean switchover: the old primary stops first, so its shutdown checkpoint reaches b.
            try await a.instance.stop(.fast)
            try await b.instance.promote()
            #expect(await b.instance.observe().role == .primary)
            #expect(try await a.instance.needsRewind(against: b.address) == false)
            try await b.instance.ensureSlots(for: ["a"])
            // Started read-only with no upstream (as a demotion leaves it): checked while it runs,
            // within b's history, so re-pointed by a reload, not restarted.
            try await a.instance.start(.replica(of: nil))
            let postmaster = await a.instance.postmasterPID
            #expect(await a.instance.checkTimeline(against: b.address) == .withinLeaderHistory)
            try await a.instance.follow(b.address)
            #expect(await a.instance.postmasterPID == postmaster, "the same server, re-pointed by a reload")
            _ = try await b.instance.query("INSERT INTO t VALUES (2)")
            #expect(try await a.waitFor("SELECT count(*)::text FROM t", toReturn: "2"))
            #expect(await a.instance.observe().timeline == 2)

            // Failover behind the old primary's back: b' (now a) is promoted while b still takes
            // writes; b then has WAL the new timeline lacks and must be rewound.
            try await a.instance.promote()
            _ = try await b.instance.query("INSERT INTO t VALUES (100)")
            _ = try await a.instance.query("INSERT INTO t VALUES (3)")
            try await b.instance.stop(.fast)
            #expect(try await b.instance.needsRewind(against: a.address))
            try await a.instance.ensureSlots(for: ["b"])
            // Started read-only with its diverged WAL: the running check finds it past a's branch
            // point, so it rejoins, stopped and rewound.
            try await b.instance.start(.replica(of: nil))
            let check = await b.instance.checkTimeline(against: a.address)
            #expect(check == .needsStoppedCheck("this node's WAL goes past where its timeline branched off"))
            #expect(try await b.instance.rejoin(a.address), "rewound")
            _ = try await a.instance.query("INSERT INTO t VALUES (4)")
            #expect(try await b.waitFor("SELECT string_agg(id::text, ',' ORDER BY id) FROM t", toReturn: "1,2,3,4"),
                    "after the rewind b follows a: its diverged row 100 is gone")
            let status = await b.instance.observe()
            #expect(status.role == .replica && status.timeline == 3 && status.replicationState == "streaming")
        }
    }

    @Test func aPromotionNeverReusesATimelineThatExistsElsewhere() async throws {
        try await TestNode.with(["a", "b"]) { nodes in
            let (a, b) = (nodes[0], nodes[1])
            _ = try await a.instance.bootstrap()
            try await b.instance.createReplica(from: a.address)
            try await b.instance.promote()
            #expect(await b.instance.observe().timeline == 2)
            // a never saw b's timeline 2; promoted from its own timeline 1 it would call its branch 2 as well.
            try await a.instance.stop(.fast)
            try await a.instance.start(.replica(of: nil))
            let history = [TimelineEvent(timeline: 1, lsn: Int64(await b.instance.observe().walPosition ?? 0),
                                         reason: "no recovery target specified", newLeader: "b")]
            try await a.instance.promote(knownHistory: history)
            #expect(await a.instance.observe().timeline == 3)
        }
    }

    @Test func aKilledPostmasterIsReportedAtOnce() async throws {
        try await TestNode.with(["n1"]) { nodes in
            let node = nodes[0]
            _ = try await node.instance.bootstrap()
            let pid = try #require(await node.instance.postmasterPID)
            let exits = node.instance.unexpectedExits
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            var iterator = exits.makeAsyncIterator()
            let status = await iterator.next()
            #expect(status != nil)
            // Event-driven, not found by the next poll: well within a loop_wait (10 s by default),
            // with room for a machine busy running the other suites in parallel.
            #expect(ContinuousClock.now - killed < .seconds(5))
            guard case .crashed = await node.instance.currentState else {
                Issue.record("state must be crashed")
                return
            }
        }
    }
}
