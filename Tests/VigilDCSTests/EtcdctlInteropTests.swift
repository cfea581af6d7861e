import Foundation
import Testing
import VigilCore
import VigilDCS
import VigilSystem
import VigilTestSupport

/// A cluster written by Vigil, as the operator's etcdctl shows it: Patroni's keys, Patroni's bytes.
@Suite struct EtcdctlInteropTests {
    @Test func etcdctlSeesPatronisKeysAndValues() async throws {
        try await TestEtcd.with { etcd in
            let layout = KeyLayout(namespace: "/db/", scope: "postgres_cluster")
            let store = EtcdStore(kv: try EtcdGateway(settings: EtcdConnectionSettings(hosts: [etcd.endpoint])),
                                  layout: layout, memberName: "postgres104", ttl: 30, retryTimeout: 5)
            #expect(try await store.initialize(systemID: "", create: true))
            #expect(try await store.initialize(systemID: "7441234567890123456", create: false))
            #expect(try await store.setConfig(["ttl": 30, "loop_wait": 10, "retry_timeout": 10,
                                               "postgresql": ["use_pg_rewind": true]], expectedVersion: nil))
            try await store.publishMember(MemberRecord(
                connURL: "postgres://127.0.50.21:5432/postgres", apiURL: "http://127.0.50.21:8008/patroni",
                state: "running", role: "primary", version: "4.1.5",
                tags: ["nofailover": false, "noloadbalance": false, "clonefrom": false, "nosync": false],
                xlogLocation: 50_331_800, timeline: 1))
            #expect(try await store.acquireLeader())
            #expect(try await store.setFailover(FailoverRequest(), expectedVersion: nil))
            try await store.setStatus(StatusRecord(optime: 50_331_800, slots: [("postgres105", 50_331_800)]))
            try await store.setHistory([])

            let run = try await CommandRun.run(try TestTools.executable("etcdctl"),
                                               ["--endpoints=\(etcd.endpoint)", "get", "--prefix", "/db/postgres_cluster/"],
                                               environment: ["ETCDCTL_API": "3"])
            #expect(run.exitCode == 0, "\(run.stderr)")
            #expect(run.stdoutLines == [
                "/db/postgres_cluster/config",
                #"{"ttl":30,"loop_wait":10,"retry_timeout":10,"postgresql":{"use_pg_rewind":true}}"#,
                "/db/postgres_cluster/failover",
                "{}",
                "/db/postgres_cluster/history",
                "[]",
                "/db/postgres_cluster/initialize",
                "7441234567890123456",
                "/db/postgres_cluster/leader",
                "postgres104",
                "/db/postgres_cluster/members/postgres104",
                #"{"conn_url":"postgres://127.0.50.21:5432/postgres","api_url":"http://127.0.50.21:8008/patroni","state":"running","role":"primary","version":"4.1.5","tags":{"nofailover":false,"noloadbalance":false,"clonefrom":false,"nosync":false},"xlog_location":50331800,"timeline":1}"#,
                "/db/postgres_cluster/status",
                #"{"optime":50331800,"slots":{"postgres105":50331800}}"#,
            ])

            // The leader and member keys ride on one lease with the configured TTL.
            let lease = try #require(try await store.readCluster().leader?.lease)
            let ttl = try await CommandRun.run(try TestTools.executable("etcdctl"),
                                               ["--endpoints=\(etcd.endpoint)", "lease", "timetolive", String(lease, radix: 16), "--keys"],
                                               environment: ["ETCDCTL_API": "3"])
            #expect(ttl.stdout.contains("granted with TTL(30s)"), "\(ttl.stdout)")
            #expect(ttl.stdout.contains("/db/postgres_cluster/leader") && ttl.stdout.contains("/db/postgres_cluster/members/postgres104"))
        }
    }
}
