import Foundation
import PostgresNIO
import Testing
import VigilPostgres
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Real agents, real etcd, real PostgreSQL 18: what the guide's "Проверка и тестирование"
/// section checks by hand, unattended. Short timings (ttl 6, loop_wait 1, retry_timeout 2).
@Suite(.serialized) struct FailoverTests {
    /// Bootstrap elects one leader and the other streams; kill -9 of the primary's node →
    /// the replica is promoted once the lease expires; the old node, restarted, is rewound
    /// onto the new timeline and streams again.
    @Test func killedPrimaryIsReplacedAndRejoinsByRewind() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)
            #expect(await second.get("/primary").status == 503)
            #expect(await first.get("/replica").status == 503)
            #expect(try await cluster.get("leader") == "node1")
            #expect(try await cluster.get("initialize")?.count ?? 0 >= 10)

            try await first.withSQL { primary in
                try await primary.run("CREATE TABLE acknowledged (i int)")
                try await primary.run("INSERT INTO acknowledged SELECT generate_series(1, 1000)")
            }
            try await cluster.require("the rows reach the replica", within: .seconds(10)) {
                (try? await second.withSQL { try await $0.count("acknowledged") }) == 1000
            }

            await first.killHard()
            try await cluster.require("node2 is promoted after the lease expires", within: .seconds(30)) {
                await second.isPrimary()
            }
            #expect(try await cluster.get("leader") == "node2")
            try await second.withSQL { promoted in
                #expect(try await promoted.count("acknowledged") == 1000)
                try await promoted.run("INSERT INTO acknowledged SELECT generate_series(1001, 1100)")
            }
            let history = try await cluster.get("history") ?? ""
            #expect(history.hasPrefix("[[1,"), "history: \(history)")

            try await first.start()
            try await cluster.require("node1 rejoins as a streaming replica", within: .seconds(60)) {
                await first.isStreamingReplica()
            }
            #expect(first.fullLog().contains("rewound onto node2's timeline"))
            let status = await first.get("/patroni").json
            #expect((status?["timeline"] as? Int ?? 0) >= 2)
            try await cluster.require("node1 has the rows written after the failover", within: .seconds(10)) {
                (try? await first.withSQL { try await $0.count("acknowledged") }) == 1100
            }
        }
    }

    /// A switchover through the `failover` key swaps the roles without losing a row; then
    /// SIGTERM of the primary's agent hands over at once (the key is released, not left to
    /// expire); a `config` key that is not JSON is reported and the last good one kept.
    /// Replication slots on the way: a permanent slot and every member's are on both nodes
    /// (copies on the replica) and still there after the switchover; a member that left keeps
    /// its slot for member_slots_ttl, then it goes everywhere.
    @Test func switchoverAndShutdownHandOverWithoutLosingRows() async throws {
        try await AgentCluster.with { cluster in
            // Each node's callbacks append their arguments to a file of its own, as a script
            // that moves a virtual IP would be called.
            let records = try Self.callbackRecorder()
            func callbacks(_ node: String) -> [String] {
                let command = "\(records.script) \(records.directory)/\(node).log"
                return ["callbacks: {on_role_change: '\(command)', on_stop: '\(command)', on_start: '\(command)'}"]
            }
            let slotSettings = ["member_slots_ttl: 6", "slots: {backup: {type: physical}}"]
            let first = try cluster.add("node1", postgresqlLines: callbacks("node1"), dcsLines: slotSettings)
            let second = try cluster.add("node2", postgresqlLines: callbacks("node2"), dcsLines: slotSettings)
            try await cluster.form(leader: first, replicas: second)
            let slotsQuery = "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots"
            func slots(_ node: TestAgent) async -> String { (try? await node.withSQL { try await $0.text(slotsQuery) }) ?? "?" }
            func slots(_ one: TestAgent, _ two: TestAgent) async -> [String] { [await slots(one), await slots(two)] }
            try await cluster.require("the permanent slot and each member's are on both nodes", within: .seconds(20)) {
                await slots(first, second) == ["backup,node2", "backup,node1"]
            }

            // A member that leaves: its slot is made, kept while retained, then dropped everywhere.
            let ghost = #"{"conn_url":"postgres://127.0.0.1:5999/postgres","api_url":"http://127.0.0.1:5998/patroni","state":"running","role":"replica"}"#
            _ = try await cluster.etcdctl(["put", cluster.key("members/ghost"), ghost])
            try await cluster.require("the new member's slot is on both nodes", within: .seconds(20)) {
                await slots(first, second) == ["backup,ghost,node2", "backup,ghost,node1"]
            }
            try await cluster.require("the leader counts the new member's slot as a member's", within: .seconds(10)) {
                (try? await cluster.get("status"))?.contains(#""retain_slots":["ghost","node1","node2"]"#) == true
            }
            _ = try await cluster.etcdctl(["del", cluster.key("members/ghost")])
            try await Task.sleep(for: .seconds(2))
            #expect(try await cluster.get("status")?.contains("\"ghost\"") == true, "still retained")
            #expect(await slots(first) == "backup,ghost,node2", "kept while member_slots_ttl runs")
            try await cluster.require("after member_slots_ttl it is gone everywhere", within: .seconds(30)) {
                await slots(first, second) == ["backup,node2", "backup,node1"]
            }
            #expect(first.fullLog().contains("dropped the replication slot ghost: no member or setting needs it"))

            try await first.withSQL { primary in
                try await primary.run("CREATE TABLE acknowledged (i int)")
                try await primary.run("INSERT INTO acknowledged SELECT generate_series(1, 500)")
            }

            let put = try await cluster.etcdctl(["put", cluster.key("failover"), #"{"leader":"node1","member":"node2"}"#])
            #expect(put.exitCode == 0)
            try await cluster.require("roles swap", within: .seconds(30)) { await second.isPrimary() }
            try await cluster.require("the old primary streams from the new one", within: .seconds(60)) {
                await first.isStreamingReplica()
            }
            #expect(try await cluster.get("failover") == "{}")
            #expect(try await cluster.get("leader") == "node2")
            try await cluster.require("the slots follow the new roles; the permanent one survives", within: .seconds(20)) {
                await slots(first, second) == ["backup,node2", "backup,node1"]
            }
            // The old primary's WAL is checked against the new timeline while it runs: a
            // switchover's replicas received its shutdown checkpoint, so nothing is rewound.
            #expect(first.fullLog().contains("following new leader (node2) without a restart"))
            #expect(!first.fullLog().contains("rewound onto"))
            // The old primary was stopped and came back as a replica; the new one was promoted.
            try await cluster.require("the callbacks record the switchover", within: .seconds(10)) {
                let one = records.lines("node1"), two = records.lines("node2")
                return one.contains("on_stop primary \(cluster.scope)") && one.contains("on_role_change replica \(cluster.scope)")
                    && two.contains("on_role_change primary \(cluster.scope)")
            }
            try await second.withSQL { afterSwitch in
                #expect(try await afterSwitch.count("acknowledged") == 500)
                try await afterSwitch.run("INSERT INTO acknowledged SELECT generate_series(501, 600)")
            }

            // A config key that is not JSON: reported, and the agents keep their settings.
            let config = try await cluster.get("config")
            _ = try await cluster.etcdctl(["put", cluster.key("config"), "{this is not json"])
            try await cluster.require("the bad config key is reported", within: .seconds(10)) {
                second.fullLog().contains("ignoring the store's config key, keeping the last good settings: \(cluster.key("config")): ")
            }
            #expect(await second.isPrimary())
            #expect(await second.get("/patroni").json?["pause"] == nil, "the last good settings stay in force")
            _ = try await cluster.etcdctl(["put", cluster.key("config"), config ?? "{}"])

            let code = await second.terminate()
            #expect(code == 0)
            #expect(second.fullLog().contains("released the leader key"))
            #expect(try await cluster.get("leader") != "node2", "the key is released on the way out, not left to expire")
            try await cluster.require("node1 takes over within seconds of the SIGTERM", within: .seconds(10)) {
                await first.isPrimary()
            }
            #expect(try await first.withSQL { try await $0.count("acknowledged") } == 600)
        }
    }

    /// A script that appends its arguments (after the first, the file to write) to that file,
    /// where the service user can run and write it.
    static func callbackRecorder() throws -> (script: String, directory: String, lines: (String) -> [String]) {
        let directory = NSTemporaryDirectory() + "vigil-callbacks-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        chmod(directory, 0o777)
        let script = directory + "/record.sh"
        let text = "#!/bin/sh\nfile=$1\nshift\necho \"$*\" >> \"$file\"\n"
        guard FileManager.default.createFile(atPath: script, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755]) else {
            throw HarnessError("cannot write \(script)")
        }
        return (script, directory, { node in
            ((try? String(contentsOfFile: "\(directory)/\(node).log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        })
    }

    /// A primary whose PostgreSQL stops answering (every process frozen) is no longer renewed:
    /// its agent stops it before its lease ends, killing what ignores the stop, so no backend
    /// can acknowledge a write after the lease. Then the healthiest node leads on a new
    /// timeline (the old node itself when, restarted, it is as far ahead as the replica) and
    /// the other streams from it.
    @Test func aPrimaryWhosePostgresHangsIsFencedAndReplaced() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)
            try await first.withSQL { try await $0.run("CREATE TABLE acknowledged AS SELECT generate_series(1, 100) AS i") }
            try await cluster.require("the rows reach the replica", within: .seconds(10)) {
                (try? await second.withSQL { try await $0.count("acknowledged") }) == 100
            }

            let frozen = first.postgresProcesses()
            #expect(frozen.count > 3, "the postmaster and its processes: \(frozen)")
            for pid in frozen { kill(pid, SIGSTOP) }
            defer { for pid in frozen { kill(pid, SIGCONT) } }
            // A stopped process cannot exit by itself: gone means killed.
            try await cluster.require("every frozen process is killed", within: .seconds(30)) {
                frozen.allSatisfy { ProcessTable.isGone($0) }
            }
            let log = first.fullLog()
            // The agent demotes it before its lease ends, or (on a machine too busy for ttl 6)
            // just after it lapsed; the fence, at its deadline, kills what is still there. Which
            // of the two kills the frozen processes is a matter of a few hundred milliseconds.
            let demoted = log.contains("demoting self because PostgreSQL does not answer and the leader lock expires before the next cycle")
                || log.contains("demoting self because PostgreSQL does not answer and nobody holds the leader lock")
            let fenced = log.contains("vigil fence: deadline passed without a renewal of the leader key: stopping PostgreSQL")
            #expect(demoted || fenced)
            if demoted { #expect(log.contains("PostgreSQL runs but did not answer")) }
            #expect(log.contains("killing the postmaster") || fenced)

            try await cluster.require("one node leads again and the other streams from it", within: .seconds(60)) {
                let a = await first.isPrimary(), b = await second.isPrimary()
                if a && !b { return await second.isStreamingReplica() }
                if b && !a { return await first.isStreamingReplica() }
                return false
            }
            let leader = await first.isPrimary() ? first : second
            #expect(try await leader.withSQL { try await $0.count("acknowledged") } == 100)
            #expect((await leader.get("/patroni").json?["timeline"] as? Int ?? 0) >= 2, "a promotion, not the hung server resumed")
        }
    }

    /// With the primary gone, a `nofailover` replica never promotes, nor does one lagging
    /// further behind than `maximum_lag_on_failover`: the cluster stays without a primary.
    @Test func neitherNofailoverNorLaggingReplicaIsPromoted() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let fenced = try cluster.add("node2", tags: ["nofailover: true"])
            let lagging = try cluster.add("node3")
            try await cluster.form(leader: first, replicas: fenced, lagging)
            // Freeze node3's WAL receiver, then write several times maximum_lag_on_failover (1 MB):
            // about 5 MB of WAL, not more, since three servers writing it to one disk slow etcd's
            // fsyncs past this cluster's retry_timeout of 2 s on a busy machine.
            let receiver = try await lagging.withSQL { try await $0.int("SELECT pid FROM pg_stat_wal_receiver") }
            #expect(receiver > 0)
            kill(pid_t(receiver), SIGSTOP)
            defer { kill(pid_t(receiver), SIGCONT) }
            let written = try await first.withSQL { primary in
                try await primary.run("CREATE TABLE filler AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 4000)")
                return try await primary.int("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint::int")
            }
            try await cluster.require("the leader publishes its new position", within: .seconds(10)) {
                let status = try? await cluster.get("status")
                let json = status.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                return (json?["optime"] as? Int ?? 0) >= written
            }

            await first.killHard()
            let promoted = await eventually(.seconds(20)) {
                let a = await fenced.isPrimary()
                let b = await lagging.isPrimary()
                return a || b
            }
            kill(pid_t(receiver), SIGCONT)
            #expect(!promoted)
            #expect(try await cluster.get("leader") == nil)
            #expect(fenced.fullLog().contains("not allowed to promote"))
            #expect(lagging.fullLog().contains("not the healthiest node"))
        }
    }

    /// In pause nothing is promoted; a second agent with a live member's name refuses to start.
    @Test func pauseHoldsFailoverAndDuplicateNamesAreRefused() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)

            let impostor = try cluster.add("node2")
            try await impostor.start()
            let status = await impostor.current?.waitForExit(timeout: .seconds(30))
            #expect(status.map { "\($0)" } == "exited(1)")
            #expect(impostor.fullLog().contains("another agent named node2 is running"))
            #expect(await second.isStreamingReplica())

            let config = try await cluster.get("config") ?? "{}"
            var settings = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any] ?? [:]
            settings["pause"] = true
            let paused = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
            _ = try await cluster.etcdctl(["put", cluster.key("config"), paused])
            try await cluster.require("both agents see the pause", within: .seconds(10)) {
                let a = await first.get("/patroni").json?["pause"] as? Bool
                let b = await second.get("/patroni").json?["pause"] as? Bool
                return a == true && b == true
            }

            // Values no agent can use, over the REST API: refused with the field named, nothing written.
            for body in [#"{"loop_wait":9223372036854775807}"#, #"{"retry_timeout":99999999999999999999}"#, #"{"pause":"maybe"}"#] {
                let answer = await first.request("PATCH", "/config", body: body)
                #expect(answer.status == 400, "PATCH /config \(body): \(answer)")
                let field = body.split(separator: "\"")[1]
                #expect(answer.body.contains(String(field)), "the refusal names \(field): \(answer.body)")
            }
            #expect(await first.request("PUT", "/config", body: #"{"ttl":-1}"#).status == 400)
            // A restart filter with a version beyond any computation: above the running one, so the
            // replica restarts (allowed in pause), and nothing traps.
            let restart = await second.request("POST", "/restart", body: #"{"postgres_version":"999999999999999"}"#)
            #expect(restart.status == 200, "\(restart)")
            #expect(await second.request("POST", "/restart", body: #"{"timeout":99999999999999}"#).status == 400)
            #expect(try await cluster.get("config") == paused, "a refused request writes nothing")

            // The same values written straight into the store: every agent keeps running, says
            // which key is wrong, and keeps the values in force (still paused).
            settings["loop_wait"] = Int64.max
            settings["retry_timeout"] = 99_999_999_999
            settings["pause"] = "maybe"
            let hostile = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
            _ = try await cluster.etcdctl(["put", cluster.key("config"), hostile])
            try await cluster.require("both agents name the unusable keys", within: .seconds(10)) {
                [first, second].allSatisfy { agent in
                    let log = agent.fullLog()
                    return ["loop_wait", "retry_timeout", "pause"].allSatisfy {
                        log.contains("\(cluster.key("config")): error: \($0): ")
                    } && log.contains("The value in force is kept.")
                }
            }
            for agent in [first, second] {
                #expect(agent.current?.isRunning == true)
                #expect(await agent.get("/patroni").json?["pause"] as? Bool == true, "the last good pause stays in force")
            }
            try await cluster.require("the restarted replica streams again", within: .seconds(30)) {
                await second.isStreamingReplica()
            }

            await first.killHard()
            let promoted = await eventually(.seconds(20)) { await second.isPrimary() }
            #expect(!promoted)
            #expect(await second.get("/patroni").json?["role"] as? String == "replica")
        }
    }
}

/// The cluster-wide configuration in the store reaches PostgreSQL on every node.
@Suite(.serialized) struct DynamicConfigTests {
    /// bootstrap.dcs becomes the `config` key; a changed reloadable parameter is in force at
    /// once, one that needs a restart is reported as pending_restart.
    @Test func parameterChangesAreReloadedOrReportedAsPendingRestart() async throws {
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1")
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            let config = try await cluster.get("config") ?? "{}"
            var settings = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any] ?? [:]
            #expect(settings["ttl"] as? Int == 6)
            var postgresql = settings["postgresql"] as? [String: Any] ?? [:]
            var parameters = postgresql["parameters"] as? [String: Any] ?? [:]
            #expect(parameters["wal_keep_size"] as? String == "256MB")
            parameters["work_mem"] = "24MB"
            parameters["max_connections"] = 150
            postgresql["parameters"] = parameters
            settings["postgresql"] = postgresql
            let changed = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
            _ = try await cluster.etcdctl(["put", cluster.key("config"), changed])

            try await cluster.require("work_mem is reloaded", within: .seconds(15)) {
                (try? await node.withSQL { try await $0.int("SELECT setting::int FROM pg_settings WHERE name = 'work_mem'") }) == 24 * 1024
            }
            try await cluster.require("max_connections waits for a restart", within: .seconds(15)) {
                await node.get("/patroni").json?["pending_restart"] as? Bool == true
            }
            #expect(node.fullLog().contains("needs a restart for the new value of: max_connections"))
            #expect(try await node.withSQL { try await $0.int("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'") } != 150)
        }
    }
}
