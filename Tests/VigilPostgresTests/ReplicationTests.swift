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
    /// create_replica_methods as Patroni runs them: each method's command with Patroni's
    /// arguments and its own options, in order, until one leaves a cluster; a method that
    /// fails leaves nothing behind for the next. A reinitialize whose every method fails leaves
    /// the old data directory as it was.
    @Test func replicaMethodsAreTriedInOrder() async throws {
        let user = try ServiceUser.current()
        let scripts = try TestDirectory.make("replica-methods")
        defer { scripts.remove() }
        let tools = try scripts.makeOwned("tools", by: user, mode: 0o777)
        let calls = tools + "/calls.log"
        func script(_ name: String, _ body: String) throws -> String {
            let path = tools + "/" + name
            try "#!/bin/sh\necho \"\(name) $*\" >> \(calls)\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
            return path
        }
        // Leaves a half-made directory behind and fails.
        let broken = try script("broken.sh", """
            for a in "$@"; do case "$a" in --datadir=*) d="${a#--datadir=}";; esac; done
            mkdir -p "$d" && touch "$d/half"; exit 3
            """)
        let copy = try script("copy.sh", """
            for a in "$@"; do case "$a" in --datadir=*) d="${a#--datadir=}";; --connstring=*) c="${a#--connstring=}";; --pgbin=*) b="${a#--pgbin=}";; esac; done
            exec "$b/pg_basebackup" -D "$d" -d "$c" -X stream --checkpoint=fast --no-password
            """)
        let bin = try TestTools.postgresBinDirectory()
        let primary = try TestNode.make("primary")
        let replica = try TestNode.make("replica", postgresqlLines: [
            "create_replica_methods: [broken, copy, basebackup]",
            "broken: {command: '\(broken)', keep_data: false}",
            "copy: {command: '\(copy)', pgbin: '\(bin)'}",
        ])
        let lone = try TestNode.make("lone", postgresqlLines: ["create_replica_methods: [broken]", "broken: {command: '\(broken)'}"])
        do {
            try await Self.checkReplicaMethods(primary, replica, lone, broken: broken, bin: bin, calls: calls)
        } catch {
            for node in [primary, replica, lone] { await node.cleanUp() }
            throw error
        }
        for node in [primary, replica, lone] { await node.cleanUp() }
    }

    static func checkReplicaMethods(_ primary: TestNode, _ replica: TestNode, _ lone: TestNode, broken: String, bin: String,
                                    calls: String) async throws {
        _ = try await primary.instance.bootstrap()
        try await primary.instance.changeSlot(.create("replica"))
        try await replica.instance.createReplica(from: primary.address)
        _ = try await primary.instance.query("CREATE TABLE t AS SELECT 1 AS one")
        #expect(try await replica.waitFor("SELECT one::text FROM t", toReturn: "1"))
        let log = try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n").map(String.init)
        let connstring = "dbname=postgres user=replicator host=\(primary.host) port=\(primary.port)"
        let data = replica.settings.dataDirectory
        #expect(log == [
            "broken.sh --keep_data=false --scope=postgres_cluster --role=replica --datadir=\(data) --connstring=\(connstring)",
            "copy.sh --pgbin=\(bin) --scope=postgres_cluster --role=replica --datadir=\(data) --connstring=\(connstring)",
        ], "\(log)")
        #expect(!FileManager.default.fileExists(atPath: data + "/half"), "the failed method's files went before the next one ran")

        // Every method fails: the directory being replaced comes back as it was.
        _ = try await lone.instance.bootstrap()
        try await lone.instance.stop(.fast)
        let marker = lone.settings.dataDirectory + "/vigil-test-marker"
        try "kept".write(toFile: marker, atomically: true, encoding: .utf8)
        let error = await #expect(throws: InstanceError.self) { try await lone.instance.reinitialize(from: primary.address) }
        #expect(error?.message.hasPrefix("replica method broken (\(broken)) failed (exited(3))") == true, "\(String(describing: error))")
        #expect(FileManager.default.fileExists(atPath: marker) && FileManager.default.fileExists(atPath: lone.settings.dataDirectory + "/PG_VERSION"))
    }

    @Test func aReplicaStreamsThroughItsSlot() async throws {
        try await TestNode.with(["postgres104", "postgres105"]) { nodes in
            let (primary, replica) = (nodes[0], nodes[1])
            _ = try await primary.instance.bootstrap()
            try await primary.instance.changeSlot(.create(SlotName.forMember("postgres105")))
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

            // Slot changes are safe to repeat, and never touch a slot something streams through.
            try await primary.instance.changeSlot(.create(SlotName.forMember("postgres105")))
            try await primary.instance.changeSlot(.drop(SlotName.forMember("postgres105")))
            #expect(await primary.instance.observe().slots.map(\.name) == ["postgres105"], "an active slot is not dropped")

            // A replica's copy of the primary's slot (as the next primary needs it) is moved to
            // where the primary is, never past what the replica has replayed.
            try await replica.instance.changeSlot(.create("postgres104"))
            let copy = await replica.instance.observe().slots.first { $0.name == "postgres104" }
            #expect(copy?.type == "physical" && copy?.active == false && copy?.restartLSN != nil && copy?.holdsXmin == false)
            _ = try await primary.instance.query("INSERT INTO t SELECT g, 'more' FROM generate_series(2, 5000) g")
            let primaryAt = try #require(await primary.instance.observe().walPosition)
            #expect(try await replica.waitFor("SELECT count(*)::text FROM t", toReturn: "5000"))
            try await replica.instance.changeSlot(.advance("postgres104", to: primaryAt + 1_000_000_000))
            let replayed = try #require(await replica.instance.observe().replayLSN)
            let advanced = try #require(await replica.instance.observe().slots.first { $0.name == "postgres104" }?.restartLSN)
            #expect(advanced > copy!.restartLSN! && advanced <= replayed, "advanced to \(advanced), replayed \(replayed)")
            try await replica.instance.changeSlot(.drop("postgres104"))
            #expect(await replica.instance.observe().slots.isEmpty)
        }
    }

    @Test func switchoverWithoutRewindThenFailoverWithRewind() async throws {
        try await TestNode.with(["a", "b"]) { nodes in
            let (a, b) = (nodes[0], nodes[1])
            _ = try await a.instance.bootstrap()
            try await a.instance.changeSlot(.create("b"))
            try await b.instance.createReplica(from: a.address)
            _ = try await a.instance.query("CREATE TABLE t (id int PRIMARY KEY)")
            _ = try await a.instance.query("INSERT INTO t VALUES (1)")
            #expect(try await b.waitFor("SELECT count(*)::text FROM t", toReturn: "1"))

            // Clean switchover: the old primary stops first, so its shutdown checkpoint reaches b.
            try await a.instance.stop(.fast)
            try await b.instance.promote()
            #expect(await b.instance.observe().role == .primary)
            #expect(try await a.instance.needsRewind(against: b.address) == false)
            try await b.instance.changeSlot(.create("a"))
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
            try await a.instance.changeSlot(.create("b"))
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
