import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import Testing
import VigilSystem
import VigilTestSupport

/// Synchronous replication on real PostgreSQL and etcd: the standby named in the sync key,
/// commits that wait for it, and what each mode does when it is gone.
@Suite(.serialized) struct SyncReplicationTests {
    /// Strict mode on two nodes: with the only standby gone a commit waits (it is not
    /// acknowledged), and completes, kept on both nodes, once the standby is back.
    @Test func strictModeHoldsCommitsUntilTheStandbyReturns() async throws {
        try await AgentCluster.with { cluster in
            let sync = ["synchronous_mode: on", "synchronous_mode_strict: true"]
            let first = try cluster.add("node1", dcsLines: sync)
            let second = try cluster.add("node2", dcsLines: sync)
            try await cluster.form(leader: first, replicas: second)
            try await cluster.require("the sync key names node2", within: .seconds(30)) {
                (try? await cluster.get("sync"))?.contains("\"sync_standby\":\"node2\"") == true
            }
            #expect(try await cluster.get("sync") == #"{"leader":"node1","quorum":0,"sync_standby":"node2"}"#)
            try await cluster.require("node2 answers /sync", within: .seconds(10)) { await second.get("/sync").status == 200 }
            #expect(await second.get("/async").status == 503)
            #expect(await first.get("/sync").status == 503)
            #expect(await second.get("/patroni").json?["sync_standby"] as? Bool == true)
            let names = try await first.withSQL { try await $0.text("SHOW synchronous_standby_names") }
            #expect(names == "node2")
            try await first.withSQL { try await $0.run("CREATE TABLE acknowledged (i int)") }

            // The standby goes away: strict mode waits for any standby rather than for none.
            _ = await second.terminate()
            try await cluster.require("node1 waits for any standby", within: .seconds(30)) {
                (try? await first.withSQL { try await $0.text("SHOW synchronous_standby_names") }) == "*"
            }
            #expect(try await cluster.get("sync") == #"{"leader":"node1","quorum":0,"sync_standby":null}"#)
            let write = Task { try await first.withSQL { try await $0.run("INSERT INTO acknowledged VALUES (1)") } }
            try await Task.sleep(for: .seconds(3))
            let visible = try await first.withSQL { try await $0.count("acknowledged") }
            #expect(visible == 0, "a commit was acknowledged with no standby to confirm it")

            try await second.start()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await write.value }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    throw AgentTestError("the waiting commit did not complete within 60 s of the standby's return")
                }
                try await group.next()
                group.cancelAll()
            }
            try await cluster.require("the commit is on the standby too", within: .seconds(10)) {
                (try? await second.withSQL { try await $0.count("acknowledged") }) == 1
            }
            #expect(first.fullLog().contains("No standbys available!"))
        }
    }

    /// Non-strict mode degrades visibly when the standby goes (commits no longer wait, the
    /// sync key names nobody, /sync answers 503, a warning, the metric at 0) and recovers by
    /// itself when it comes back.
    @Test func nonStrictModeDegradesVisiblyAndRecovers() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1", dcsLines: ["synchronous_mode: true"])
            let second = try cluster.add("node2", dcsLines: ["synchronous_mode: true"])
            try await cluster.form(leader: first, replicas: second)
            try await cluster.require("the sync key names node2", within: .seconds(30)) {
                await second.get("/sync").status == 200
            }
            try await cluster.require("node1's metric counts one synchronous standby", within: .seconds(10)) {
                (try? await metric(first, "vigil_synchronous_standbys")) == "1"
            }
            // A synchronous standby asks to be released before it restarts: the primary stops
            // waiting for it first (commits do not hang on a restart), and takes it back after.
            let restart = await second.request("POST", "/restart", body: "{}")
            #expect(restart.status == 200, "\(restart.body)")
            #expect(second.fullLog().contains("Waiting for primary to release us from synchronous standby")
                    || first.fullLog().contains("no synchronous standby available"))
            try await cluster.require("node1 stopped waiting for node2 while it restarted", within: .seconds(10)) {
                first.fullLog().contains("no synchronous standby available")
            }
            try await cluster.require("node2 is a synchronous standby again after its restart", within: .seconds(60)) {
                await second.get("/sync").status == 200
            }
            _ = await second.terminate()
            try await cluster.require("node1 stops waiting for node2", within: .seconds(30)) {
                (try? await first.withSQL { try await $0.text("SHOW synchronous_standby_names") }) == ""
            }
            #expect(try await cluster.get("sync") == #"{"leader":"node1","quorum":0,"sync_standby":null}"#)
            try await first.withSQL { try await $0.run("CREATE TABLE degraded AS SELECT 1 AS i") }
            try await cluster.require("node1's metric counts no synchronous standby", within: .seconds(10)) {
                (try? await metric(first, "vigil_synchronous_standbys")) == "0"
            }

            try await second.start()
            try await cluster.require("node2 is a synchronous standby again", within: .seconds(60)) {
                await second.get("/sync").status == 200
            }
            #expect(try await cluster.get("sync") == #"{"leader":"node1","quorum":0,"sync_standby":"node2"}"#)
        }
    }

    /// Quorum mode on three nodes: a commit waits for any one of the two standbys, so losing one
    /// does not stop writes; the key then names the one left (quorum 0), and when the primary is
    /// lost too, that standby is promoted with every acknowledged row.
    @Test func quorumModeKeepsWritingWhenAReplicaIsLost() async throws {
        try await AgentCluster.with { cluster in
            let quorum = ["synchronous_mode: quorum"]
            let first = try cluster.add("node1", dcsLines: quorum)
            let second = try cluster.add("node2", dcsLines: quorum)
            let third = try cluster.add("node3", dcsLines: quorum)
            try await cluster.form(leader: first, replicas: second, third)
            try await cluster.require("the sync key names both standbys with quorum 1", within: .seconds(60)) {
                (try? await cluster.get("sync")) == #"{"leader":"node1","quorum":1,"sync_standby":"node2,node3"}"#
            }
            #expect(try await first.withSQL { try await $0.text("SHOW synchronous_standby_names") } == "ANY 1 (node2,node3)")
            try await cluster.require("node2 answers /quorum", within: .seconds(10)) { await second.get("/quorum").status == 200 }
            #expect(await second.get("/sync").status == 503)
            #expect(await second.get("/patroni").json?["quorum_standby"] as? Bool == true)
            try await first.withSQL { try await $0.run("CREATE TABLE acknowledged (i int)") }

            await third.killHard()
            // Commits wait for any one standby: node2 confirms them at once.
            let started = ContinuousClock.now
            for i in 1...50 { try await first.withSQL { try await $0.run("INSERT INTO acknowledged VALUES (\(i))") } }
            #expect(ContinuousClock.now - started < .seconds(10), "writes stalled after losing one of two quorum standbys")
            try await cluster.require("the sync key names node2 alone", within: .seconds(30)) {
                (try? await cluster.get("sync")) == #"{"leader":"node1","quorum":0,"sync_standby":"node2"}"#
            }
            for i in 51...100 { try await first.withSQL { try await $0.run("INSERT INTO acknowledged VALUES (\(i))") } }

            await first.killHard()
            try await cluster.require("node2 is promoted", within: .seconds(40)) { await second.isPrimary() }
            #expect(try await second.withSQL { try await $0.count("acknowledged") } == 100)
        }
    }

    /// Synchronous mode turned on and off at run time through the config key: on, the leader
    /// manages synchronous_standby_names; off, the sync key goes and the node's own value is back.
    @Test func synchronousModeIsTurnedOnAndOffAtRunTime() async throws {
        try await AgentCluster.with { cluster in
            let own = ["synchronous_standby_names: 'FIRST 1 (node2)'"]
            let first = try cluster.add("node1", parameterLines: own)
            let second = try cluster.add("node2", parameterLines: own)
            try await cluster.form(leader: first, replicas: second)
            #expect(try await first.withSQL { try await $0.text("SHOW synchronous_standby_names") } == "FIRST 1 (node2)")
            #expect(try await cluster.get("sync") == nil)
            let ctl = try CommandRun.product("vigilctl")
            let on = try await CommandRun.run(ctl, ["-c", first.configPath, "edit-config", "-s", "synchronous_mode=on", "--force"])
            #expect(on.exitCode == 0, "\(on.stdout)\(on.stderr)")
            try await cluster.require("the sync key names node2", within: .seconds(30)) {
                (try? await cluster.get("sync")) == #"{"leader":"node1","quorum":0,"sync_standby":"node2"}"#
            }
            #expect(try await first.withSQL { try await $0.text("SHOW synchronous_standby_names") } == "node2")
            let off = try await CommandRun.run(ctl, ["-c", first.configPath, "edit-config", "-s", "synchronous_mode=off", "--force"])
            #expect(off.exitCode == 0, "\(off.stdout)\(off.stderr)")
            try await cluster.require("the sync key is deleted", within: .seconds(30)) { (try? await cluster.get("sync")) == nil }
            try await cluster.require("the node's own synchronous_standby_names is back", within: .seconds(10)) {
                (try? await first.withSQL { try await $0.text("SHOW synchronous_standby_names") }) == "FIRST 1 (node2)"
            }
        }
    }

    func metric(_ agent: TestAgent, _ name: String) async throws -> String? {
        var request = HTTPClientRequest(url: agent.restURL + "/metrics")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return body.split(separator: "\n").first { $0.hasPrefix(name + "{") }?.split(separator: " ").last.map(String.init)
    }
}

extension PostgresConnection {
    func text(_ sql: String) async throws -> String {
        let rows = try await query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await (value) in rows.decode(String.self) { return value }
        return ""
    }
}
