import Foundation
import Testing
import VigilTestSupport

/// The REST API of real agents: Patroni's protected endpoints, their refusals, and a
/// switchover driven through them.
@Suite(.serialized) struct RestAPITests {
    static let auth = (username: "admin", password: "rest-s3cret")

    @Test func switchoverThroughTheAPIWithPatronisRefusals() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1", restAuthentication: Self.auth)
            let second = try cluster.add("node2", restAuthentication: Self.auth)
            let fenced = try cluster.add("node3", tags: ["nofailover: true"], restAuthentication: Self.auth)
            try await cluster.form(leader: first, replicas: second, fenced)
            let (user, password) = Self.auth
            func post(_ path: String, _ body: String) async -> (status: Int, body: String) {
                await first.request("POST", path, body: body, username: user, password: password)
            }

            // Authentication, then the body, then Patroni's checks, in Patroni's order.
            let anonymous = await first.request("POST", "/switchover", body: #"{"leader":"node1"}"#)
            #expect(anonymous.status == 401 && anonymous.body == "no auth header received")
            let wrong = await first.request("POST", "/switchover", body: #"{"leader":"node1"}"#, username: user, password: "nope")
            #expect(wrong.status == 401 && wrong.body == "not authenticated")
            #expect(await post("/switchover", "not json").status == 400)
            #expect(await post("/switchover", "[1,2]").status == 400)
            let noLength = await first.request("POST", "/switchover", body: #"{"leader":"node1"}"#, username: user,
                                               password: password, contentLength: false)
            #expect(noLength.status == 411)
            #expect(await post("/switchover", #"{"candidate":"node2"}"#)
                == (400, "Switchover could be performed only from a specific leader"))
            #expect(await post("/failover", #"{"leader":"node1"}"#)
                == (400, "Failover could be performed only to a specific candidate"))
            #expect(await post("/switchover", #"{"leader":"node1","candidate":"node1"}"#)
                == (400, "Switchover target and source are the same"))
            // A name of the wrong type is named (schemathesis found {"leader": {}} looked up as no leader).
            #expect(await post("/failover", #"{"candidate":"","leader":{},"member":""}"#) == (400, "leader must be a string"))
            #expect(await post("/switchover", #"{"leader":"node1","candidate":7}"#) == (400, "candidate must be a string"))
            #expect(await post("/switchover", #"{"leader":"node2","candidate":"node3"}"#) == (412, "leader name does not match"))
            #expect(await post("/switchover", #"{"leader":"node1","candidate":"node9"}"#) == (412, "candidate does not exists"))
            #expect(await post("/switchover", #"{"leader":"node1","candidate":"node3"}"#)
                == (412, "switchover is not possible: no good candidates have been found"))
            #expect(await post("/switchover", #"{"leader":"node1","scheduled_at":"2020-01-01T00:00"}"#)
                == (400, "Timezone information is mandatory for the scheduled switchover"))
            #expect(await post("/switchover", #"{"leader":"node1","scheduled_at":"2020-01-01T00:00:00+00:00"}"#)
                == (422, "Can't schedule switchover in the past"))
            #expect(await first.isPrimary())

            let switched = await post("/switchover", #"{"leader":"node1","candidate":"node2"}"#)
            #expect(switched == (200, #"Successfully switched over to "node2""#))
            try await cluster.require("node2 is the primary", within: .seconds(15)) { await second.isPrimary() }
            try await cluster.require("node1 streams from node2", within: .seconds(60)) { await first.isStreamingReplica() }

            // /metrics in Patroni's names, from the snapshot.
            let metrics = await second.request("GET", "/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("patroni_primary{scope=\"\(cluster.scope)\",name=\"node2\"} 1"))
            // Store latency, as the agent measured its own calls.
            #expect(metrics.body.contains("vigil_store_call_seconds_count{scope=\"\(cluster.scope)\",name=\"node2\",call=\"kv/range\"}"),
                    "\(metrics.body)")

            // /cluster lists every member, sorted, as the store has them.
            let members = (await first.get("/cluster").json?["members"] as? [[String: Any]]) ?? []
            #expect(members.map { $0["name"] as? String } == ["node1", "node2", "node3"])
            #expect(members.first { $0["name"] as? String == "node2" }?["role"] as? String == "leader")

            // PATCH /config merges and wakes every agent.
            let patched = await second.request("PATCH", "/config", body: #"{"pause":true}"#, username: user, password: password)
            #expect(patched.status == 200 && patched.body.contains(#""pause":true"#))
            try await cluster.require("the pause reaches every member", within: .seconds(10)) {
                await fenced.get("/patroni").json?["pause"] as? Bool == true
            }
            let resumed = await second.request("PATCH", "/config", body: #"{"pause":null}"#, username: user, password: password)
            #expect(resumed.status == 200 && !resumed.body.contains("pause"))

            // A replica restarts on request; the primary refuses a reinitialize.
            let restart = await fenced.request("POST", "/restart", body: #"{"role":"replica"}"#, username: user, password: password)
            #expect(restart == (200, "restarted successfully"))
            let conditions = await fenced.request("POST", "/restart", body: #"{"role":"primary"}"#, username: user, password: password)
            #expect(conditions == (503, "restart conditions are not satisfied"))
            let reinit = await second.request("POST", "/reinitialize", body: "{}", username: user, password: password)
            #expect(reinit == (503, "I am the leader, can not reinitialize"))
            #expect(await second.request("DELETE", "/restart", username: user, password: password)
                == (404, "no restarts are scheduled"))
            #expect(await second.request("POST", "/reload", username: user, password: password) == (202, "reload scheduled"))
            try await cluster.require("node3 streams again after its restart", within: .seconds(30)) {
                await fenced.isStreamingReplica()
            }
        }
    }
}
