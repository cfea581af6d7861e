import Foundation
import Testing
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The HA loop reacts to events, not to its timer: with loop_wait 20 s, each reaction below
/// comes within a few seconds (the store's watch on the config, failover and leader keys, the
/// postmaster's exit, a REST request). The old primary's following is helped by the short
/// cycle that comes after any change to PostgreSQL; every other step is a wake-up.
@Suite(.serialized) struct WakeupTests {
    static let slowLoop = (ttl: 30, loopWait: 20, retryTimeout: 2)
    /// Well under loop_wait: a cycle that waited for its timer would miss it.
    static let reaction = Duration.seconds(8)

    @Test func theLoopWakesForTheStorePostmasterAndRESTRequests() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1", timings: Self.slowLoop)
            let second = try cluster.add("node2", timings: Self.slowLoop)
            try await cluster.form(leader: first, replicas: second)

            // The config key: a reloadable parameter is in force at once.
            let config = try await cluster.get("config") ?? "{}"
            var settings = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any] ?? [:]
            #expect(settings["loop_wait"] as? Int == 20)
            var postgresql = settings["postgresql"] as? [String: Any] ?? [:]
            var parameters = postgresql["parameters"] as? [String: Any] ?? [:]
            parameters["work_mem"] = "20MB"
            postgresql["parameters"] = parameters
            settings["postgresql"] = postgresql
            let changed = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
            _ = try await cluster.etcdctl(["put", cluster.key("config"), changed])
            try await cluster.require("a config change is applied on the watch's wake-up", within: Self.reaction) {
                (try? await first.withSQL { try await $0.int("SELECT setting::int FROM pg_settings WHERE name = 'work_mem'") })
                    == 20 * 1024
            }

            // The failover and leader keys: a switchover completes within seconds. It goes ahead
            // only to a member the leader sees streaming (a clone may still be catching up when
            // it already calls itself streaming): waited for first, and not counted.
            try await cluster.require("the leader sees node2 streaming", within: .seconds(45)) {
                let replication = await first.get("/patroni").json?["replication"] as? [[String: Any]] ?? []
                return replication.contains { $0["application_name"] as? String == "node2" && $0["state"] as? String == "streaming" }
            }
            let put = try await cluster.etcdctl(["put", cluster.key("failover"), #"{"leader":"node1","member":"node2"}"#])
            #expect(put.exitCode == 0)
            try await cluster.require("the switchover runs on the watch's wake-ups", within: Self.reaction) {
                await second.isPrimary()
            }
            try await cluster.require("the old primary follows the new one", within: Self.reaction) {
                await first.isStreamingReplica()
            }

            // The postmaster's exit: the replica's PostgreSQL is back and streaming at once.
            let postmaster = try #require(first.postgresProcesses().first)
            kill(postmaster, SIGKILL)
            try await cluster.require("the replica's agent restarts PostgreSQL when it dies", within: Self.reaction) {
                await first.isStreamingReplica() && first.postgresProcesses().first != postmaster
            }

            // A REST request: POST /restart runs now, not at the next cycle.
            let before = await first.get("/patroni").json?["postmaster_start_time"] as? String
            let asked = ContinuousClock.now
            let restart = await first.request("POST", "/restart", body: "{}")
            #expect(restart.status == 200, "\(restart.body)")
            #expect(ContinuousClock.now - asked < Self.reaction, "the restart waited for the timer")
            #expect(await first.get("/patroni").json?["postmaster_start_time"] as? String != before)
        }
    }
}
