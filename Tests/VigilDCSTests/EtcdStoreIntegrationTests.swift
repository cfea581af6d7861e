import Foundation
import Testing
import VigilCore
import VigilDCS
import VigilSystem
import VigilTestSupport

/// What only a real etcd can show: restarts, a member down, auth, endpoint rotation.
@Suite struct EtcdStoreIntegrationTests {
    func store(_ endpoints: [String], _ member: String?, layout: KeyLayout, retryTimeout: Int = 3,
               username: String? = nil, password: String? = nil) throws -> EtcdStore {
        let gateway = try EtcdGateway(settings: EtcdConnectionSettings(hosts: endpoints, username: username,
                                                                        password: password))
        return EtcdStore(kv: gateway, layout: layout, memberName: member, ttl: 30, retryTimeout: retryTimeout)
    }

    @Test func aKilledEtcdFailsFastWithAClassifiedErrorThenWorksAgainAndTheWatchResumes() async throws {
        try await TestEtcd.with { etcd in
            let layout = KeyLayout(namespace: "/db/", scope: "restart")
            let n1 = try store([etcd.endpoint], "n1", layout: layout)
            let observer = try store([etcd.endpoint], "n2", layout: layout)
            #expect(try await n1.acquireLeader())
            let changes = ChangeRecorder(observer.changes())
            #expect(await changes.next { $0 == .resynced })

            await etcd.kill()
            let started = ContinuousClock.now
            let error = await #expect(throws: StoreError.self) { try await n1.readCluster() }
            #expect(error?.kind == .unreachable || error?.kind == .timedOut, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(5), "a call must give up within retry_timeout")

            try await etcd.restart()
            let view = try await n1.readCluster()
            #expect(view.leader?.name == "n1", "the leader key survives an etcd restart")
            #expect(try await n1.renewLeader() == .held)

            #expect(await changes.next(timeout: .seconds(15)) { $0 == .resynced }, "the watch reports the gap")
            #expect(try await n1.setConfig(["ttl": 30], expectedVersion: nil))
            #expect(await changes.next(timeout: .seconds(15)) { $0 == .key("config", deleted: false) },
                    "the watch resumes after the restart")
        }
    }

    @Test func aThreeMemberClusterWithOneMemberDownKeepsWorking() async throws {
        try await TestEtcdCluster.with(size: 3) { cluster in
            let layout = KeyLayout(namespace: "/db/", scope: "quorum")
            // The production default budget: losing a member may cost a raft election first.
            let n1 = try store(cluster.endpoints, "n1", layout: layout, retryTimeout: 10)
            let n2 = try store(cluster.endpoints, "n2", layout: layout, retryTimeout: 10)
            #expect(try await n1.acquireLeader())
            await cluster.members[0].kill()
            for _ in 0..<5 {
                #expect(try await n1.renewLeader() == .held)
                try await n2.publishMember(MemberRecord(state: "running", role: "replica"))
                let view = try await n2.readCluster()
                #expect(view.leader?.name == "n1" && view.member(named: "n2") != nil)
            }
            #expect(try await n2.acquireLeader() == false)
        }
    }

    @Test func aDeadEndpointFirstInTheListCostsOnlyItsSlice() async throws {
        try await TestEtcd.with { etcd in
            let dead = try LoopbackAddress.freeEndpoint()
            // A generous budget: the point is that the call moves on to the live endpoint and succeeds,
            // not how fast a loaded machine does it.
            let s = try store(["\(dead.host):\(dead.port)", etcd.endpoint], "n1",
                              layout: KeyLayout(namespace: "/db/", scope: "rotate"), retryTimeout: 10)
            #expect(try await s.acquireLeader())
            #expect(try await s.readCluster().leader?.name == "n1")
        }
    }

    @Test func nothingListeningIsReportedPlainly() async throws {
        let dead = try LoopbackAddress.freeEndpoint()
        let s = try store(["\(dead.host):\(dead.port)"], "n1", layout: KeyLayout(namespace: "/db/", scope: "down"), retryTimeout: 1)
        let error = await #expect(throws: StoreError.self) { try await s.readCluster() }
        #expect(error?.kind == .unreachable)
        #expect(error?.description == "etcd unreachable (http://\(dead.host):\(dead.port)): connection refused: is etcd running there?")
    }

    @Test func passwordAuthenticationAndAWrongPassword() async throws {
        try await TestEtcd.with { etcd in
            let etcdctl = try TestTools.executable("etcdctl")
            let env = ["ETCDCTL_API": "3"]
            for args in [["user", "add", "root:rootpass"], ["user", "add", "vigil:vigilpass"],
                         ["user", "grant-role", "vigil", "root"], ["auth", "enable"]] {
                let run = try await CommandRun.run(etcdctl, ["--endpoints=\(etcd.endpoint)", "--user=root:rootpass"] + args,
                                                   environment: env)
                #expect(run.exitCode == 0, "etcdctl \(args): \(run.stderr)")
            }
            let layout = KeyLayout(namespace: "/db/", scope: "auth")
            let good = try store([etcd.endpoint], "n1", layout: layout, username: "vigil", password: "vigilpass")
            #expect(try await good.acquireLeader())
            #expect(try await good.readCluster().leader?.name == "n1")

            let bad = try store([etcd.endpoint], "n2", layout: layout, username: "vigil", password: "wrong-secret")
            let error = await #expect(throws: StoreError.self) { try await bad.readCluster() }
            #expect(error?.kind == .authFailed)
            #expect(error.map { !$0.description.contains("wrong-secret") } == true, "a password never appears in an error")

            let anonymous = try store([etcd.endpoint], "n3", layout: layout)
            let refused = await #expect(throws: StoreError.self) { try await anonymous.acquireLeader() }
            #expect(refused?.kind == .authFailed || refused?.kind == .rejected)
        }
    }
}

/// TLS with a CA, a client certificate and key, and expiring auth tokens.
@Suite struct EtcdSecurityTests {
    @Test func tlsWithClientCertificates() async throws {
        try await TestEtcd.with(tls: true) { etcd in
            let certificates = try #require(etcd.certificates)
            let layout = KeyLayout(namespace: "/db/", scope: "tls")
            let settings = EtcdConnectionSettings(hosts: [etcd.endpoint], caFile: certificates.caFile,
                                                  certFile: certificates.clientCertFile,
                                                  keyFile: certificates.clientKeyFile)
            #expect(settings.endpoints == ["https://\(etcd.endpoint)"])
            let store = EtcdStore(kv: try EtcdGateway(settings: settings), layout: layout, memberName: "n1",
                                  ttl: 30, retryTimeout: 5)
            #expect(try await store.acquireLeader())
            #expect(try await store.readCluster().leader?.name == "n1")

            // Without a client certificate the server refuses the handshake.
            let anonymous = EtcdStore(kv: try EtcdGateway(settings: EtcdConnectionSettings(
                hosts: [etcd.endpoint], caFile: certificates.caFile)), layout: layout, memberName: "n2", ttl: 30, retryTimeout: 2)
            await #expect(throws: StoreError.self) { try await anonymous.readCluster() }
        }
    }

    @Test func anExpiredAuthTokenIsRenewedWithoutTheCallerNoticing() async throws {
        try await TestEtcd.with(extraArguments: ["--auth-token", "simple", "--auth-token-ttl", "1"]) { etcd in
            let etcdctl = try TestTools.executable("etcdctl")
            for args in [["user", "add", "root:rootpass"], ["auth", "enable"]] {
                let run = try await CommandRun.run(etcdctl, ["--endpoints=\(etcd.endpoint)", "--user=root:rootpass"] + args,
                                                   environment: ["ETCDCTL_API": "3"])
                #expect(run.exitCode == 0, "\(run.stderr)")
            }
            let store = EtcdStore(kv: try EtcdGateway(settings: EtcdConnectionSettings(
                hosts: [etcd.endpoint], username: "root", password: "rootpass")),
                layout: KeyLayout(namespace: "/db/", scope: "token"), memberName: "n1", ttl: 30, retryTimeout: 5)
            #expect(try await store.acquireLeader())
            try await Task.sleep(for: .seconds(3))
            #expect(try await store.renewLeader() == .held)
            #expect(try await store.readCluster().leader?.name == "n1")
        }
    }
}
