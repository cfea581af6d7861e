import AsyncHTTPClient
import Foundation
import Testing
import VigilSystem
import VigilTestSupport

/// vigilctl and Patroni's own patronictl against a Vigil cluster: the same table, and
/// patronictl's switchover works through Vigil's REST API.
@Suite(.serialized) struct CtlInteropTests {
    static func patronictl(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CommandRun {
        var environment: [String: String?] = extra
        for (key, value) in try TestPatroni.pythonEnvironment() { environment[key] = value }
        return try await CommandRun.run("/usr/bin/python3", [
            "-c", "import sys; from patroni.ctl import ctl; sys.argv = ['patronictl'] + sys.argv[1:]; ctl()",
        ] + arguments, environment: environment)
    }

    static func vigilctl(_ arguments: [String], environment: [String: String?] = [:]) async throws -> CommandRun {
        try await CommandRun.run(try CommandRun.product("vigilctl"), arguments, environment: environment)
    }

    @Test func listMatchesPatronictlAndBothSwitchOver() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1", tags: ["clonefrom: true"])
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)
            let config = first.configPath

            // Same cluster, same moment: the same bytes (retried, as WAL may move between the two reads).
            for format in [["list"], ["list", "-f", "tsv"], ["list", "-f", "json"], ["list", "-e"]] {
                var same = false
                var last = ("", "")
                for _ in 0..<5 where !same {
                    let theirs = try await Self.patronictl(["-c", config] + format)
                    let ours = try await Self.vigilctl(["-c", config] + format)
                    #expect(theirs.exitCode == 0 && ours.exitCode == 0, "\(theirs.stderr)\n\(ours.stderr)")
                    last = (theirs.stdout, ours.stdout)
                    same = theirs.stdout == ours.stdout
                    if !same { try await Task.sleep(for: .milliseconds(500)) }
                }
                #expect(same, "patronictl \(format):\n\(last.0)\nvigilctl:\n\(last.1)")
            }

            // patronictl's switchover, through Vigil's REST API.
            let theirs = try await Self.patronictl(["-c", config, "switchover", "--candidate", "node2", "--force"])
            #expect(theirs.exitCode == 0, "\(theirs.stdout)\n\(theirs.stderr)")
            #expect(theirs.stdout.contains("Successfully switched over to \"node2\""), "\(theirs.stdout)")
            try await cluster.require("node2 leads", within: .seconds(15)) { await second.isPrimary() }
            try await cluster.require("node1 streams from node2", within: .seconds(60)) { await first.isStreamingReplica() }

            // And vigilctl's, back.
            let ours = try await Self.vigilctl(["-c", config, "switchover", "--candidate", "node1", "--force"])
            #expect(ours.exitCode == 0, "\(ours.stdout)\n\(ours.stderr)")
            #expect(ours.stdout.contains("Successfully switched over to \"node1\""), "\(ours.stdout)")
            try await cluster.require("node1 leads again", within: .seconds(15)) { await first.isPrimary() }

            // Refusals a user can act on.
            let unknown = try await Self.vigilctl(["-c", config, "switchover", "--candidate", "node9", "--force"])
            #expect(unknown.exitCode == 1 && unknown.stderr.contains("Member node9 does not exist in cluster"))
            let history = try await Self.vigilctl(["-c", config, "history"])
            #expect(history.stdout.contains("| node2 ") && history.stdout.contains("| node1 "), "\(history.stdout)")
            let paused = try await Self.vigilctl(["-c", config, "pause", "--wait"])
            #expect(paused.stdout.contains("Success: cluster management is paused"), "\(paused.stdout)\(paused.stderr)")
            let again = try await Self.vigilctl(["-c", config, "pause"])
            #expect(again.exitCode == 1 && again.stderr.contains("Cluster is already paused"))
            let listed = try await Self.patronictl(["-c", config, "list"])
            #expect(listed.stdout.contains(" Maintenance mode: on"))
            let resumed = try await Self.vigilctl(["-c", config, "resume"])
            #expect(resumed.stdout.contains("Success: cluster management is resumed"))
            // The cluster-wide configuration: changed by vigilctl, read back by both tools alike.
            let edited = try await Self.vigilctl(["-c", config, "edit-config", "-p", "work_mem=24MB", "-s", "loop_wait=2", "--force"])
            #expect(edited.stdout.contains("+    work_mem: 24MB") && edited.stdout.contains("Configuration changed"), "\(edited.stdout)\(edited.stderr)")
            // Without -s/-p, the configuration opens in $EDITOR (here a sed that edits the file in place).
            let editor = try await Self.vigilctl(["-c", config, "edit-config", "--force"],
                                                 environment: ["EDITOR": "sed -i -e s/^maximum_lag_on_failover:.*/maximum_lag_on_failover:\\ 2097152/"])
            #expect(editor.exitCode == 0 && editor.stdout.contains("+maximum_lag_on_failover: 2097152"),
                    "\(editor.stdout)\n\(editor.stderr)")
            let unusable = try await Self.vigilctl(["-c", config, "edit-config", "-s", "ttl=99999999999", "--force"])
            #expect(unusable.exitCode == 1 && unusable.stderr.contains("the new configuration cannot be used: ttl: expected a whole number from 0 to 31536000"),
                    "\(unusable.stdout)\(unusable.stderr)")
            let noEditor = try await Self.vigilctl(["-c", config, "edit-config"], environment: ["EDITOR": "false"])
            #expect(noEditor.exitCode == 1 && noEditor.stderr.contains("Editor exited with return code 1"), "\(noEditor.stderr)")
            let shownByUs = try await Self.vigilctl(["-c", config, "show-config"])
            let shownByThem = try await Self.patronictl(["-c", config, "show-config"])
            #expect(shownByUs.stdout == shownByThem.stdout, "vigilctl:\n\(shownByUs.stdout)\npatronictl:\n\(shownByThem.stdout)")
            try await cluster.require("work_mem reaches PostgreSQL", within: .seconds(15)) {
                (try? await first.withSQL { try await $0.int("SELECT setting::int FROM pg_settings WHERE name = 'work_mem'") }) == 24 * 1024
            }
            let restarted = try await Self.vigilctl(["-c", config, "restart", cluster.scope, "node2", "--force"])
            #expect(restarted.stdout.contains("Success: restart on member node2"), "\(restarted.stdout)")

            // query: the same rows as patronictl's, on the leader and on a replica; errors say what.
            let sql = "SELECT 1 AS one, 'x'::text AS t, NULL::int AS n, true AS b, 2.5::numeric AS num, "
                + "'2026-11-27 10:00:00.123456+00'::timestamptz AS ts, '2026-11-27 10:00:00'::timestamptz AS whole, '1999-12-31'::date AS d"
            for role in ["leader", "replica"] {
                // patronictl reads no password from the file: it is given the superuser's as libpq would take it.
                let theirQuery = try await Self.patronictl(["-c", config, "query", "-U", "postgres", "-r", role, "-c", sql],
                                                           environment: ["PGPASSWORD": TestAgent.superuserPassword])
                let ourQuery = try await Self.vigilctl(["-c", config, "query", "-r", role, "-c", sql])
                #expect(ourQuery.exitCode == 0 && ourQuery.stdout == theirQuery.stdout,
                        "patronictl:\n\(theirQuery.stdout)\(theirQuery.stderr)\nvigilctl:\n\(ourQuery.stdout)\(ourQuery.stderr)")
            }
            let recovery = try await Self.vigilctl(["-c", config, "query", "-m", "node2", "-c", "SELECT pg_is_in_recovery()"])
            #expect(recovery.stdout == "pg_is_in_recovery\nTrue\n", "\(recovery.stdout)")
            let missing = try await Self.vigilctl(["-c", config, "query", "-c", "SELECT * FROM no_such_table"])
            #expect(missing.exitCode == 1 && missing.stderr.contains(#"relation "no_such_table" does not exist"#), "\(missing.stderr)")

            let noStore = try await Self.vigilctl(["-c", "/nonexistent.yml", "list"])
            #expect(noStore.exitCode == 1 && noStore.stderr.contains("does not exist"))
        }
    }

    /// A Patroni 4.1.5 node joins a Vigil cluster in synchronous mode: Vigil's leader makes it
    /// its synchronous standby and Patroni reads Vigil's sync key as its own (its REST API says
    /// so); patronictl and vigilctl show the same roles; after a switchover to it, Patroni's
    /// leader makes the Vigil node its synchronous standby, and Vigil reads Patroni's key.
    @Test func aPatroniNodeJoinsAVigilSyncClusterAndTheRolesAgree() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1", timings: (20, 2, 5), dcsLines: ["synchronous_mode: on"])
            try await first.start()
            try await cluster.require("node1 bootstraps and leads", within: .seconds(60)) { await first.isPrimary() }
            let patroni = try await TestPatroni(name: "patroni2", scope: cluster.scope, etcdEndpoints: [cluster.etcd.endpoint],
                                                superuserPassword: TestAgent.superuserPassword,
                                                replicationPassword: TestAgent.replicationPassword)
            do {
                try await cluster.require("Vigil's leader lists the Patroni node as its synchronous standby", within: .seconds(120)) {
                    (try? await cluster.get("sync")) == #"{"leader":"node1","quorum":0,"sync_standby":"patroni2"}"#
                }
                let names = try await first.withSQL { try await $0.text("SHOW synchronous_standby_names") }
                #expect(names == "patroni2")
                try await cluster.require("Patroni says it is the synchronous standby", within: .seconds(20)) {
                    await Self.status(patroni.restURL + "/sync") == 200
                }
                let config = first.configPath
                var same = false
                var last = ("", "")
                for _ in 0..<10 where !same {
                    let theirs = try await Self.patronictl(["-c", config, "list"])
                    let ours = try await Self.vigilctl(["-c", config, "list"])
                    last = (theirs.stdout, ours.stdout)
                    same = theirs.stdout == ours.stdout && theirs.stdout.contains("| Sync Standby |")
                    if !same { try await Task.sleep(for: .milliseconds(500)) }
                }
                #expect(same, "patronictl:\n\(last.0)\nvigilctl:\n\(last.1)")

                // A switchover to the Patroni node: it promotes, takes the sync key, and makes the Vigil node its standby.
                let moved = try await Self.vigilctl(["-c", config, "switchover", "--candidate", "patroni2", "--force"])
                #expect(moved.exitCode == 0 && moved.stdout.contains("Successfully switched over to \"patroni2\""),
                        "\(moved.stdout)\(moved.stderr)\n\(patroni.logTail())")
                try await cluster.require("Patroni's leader lists the Vigil node as its synchronous standby", within: .seconds(90)) {
                    (try? await cluster.get("sync")) == #"{"leader":"patroni2","quorum":0,"sync_standby":"node1"}"#
                }
                try await cluster.require("the Vigil node says it is the synchronous standby", within: .seconds(20)) {
                    await first.get("/sync").status == 200
                }
                let listed = try await Self.vigilctl(["-c", config, "list"])
                #expect(listed.stdout.contains("| node1    |") && listed.stdout.contains("| Sync Standby |"), "\(listed.stdout)")
            } catch {
                print(patroni.logTail())
                await patroni.stop()
                throw error
            }
            await patroni.stop()
        }
    }

    static func status(_ url: String) async -> Int {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5)) else { return 0 }
        return Int(response.status.code)
    }
}
