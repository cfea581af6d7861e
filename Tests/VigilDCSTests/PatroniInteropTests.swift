import Foundation
import Testing
import VigilCore
import VigilDCS
import VigilTestSupport

/// A cluster written by real Patroni 4.1.5, read by Vigil: every key understood, and every
/// value Vigil would write back byte-identical to what Patroni wrote.
@Suite struct PatroniInteropTests {
    @Test func vigilReadsWhatPatroniWrote() async throws {
        try await TestEtcd.with { etcd in
            let patroni = try await TestPatroni(name: "patroni1", scope: "interop", etcdEndpoints: [etcd.endpoint])
            do {
                let layout = KeyLayout(namespace: patroni.namespace, scope: patroni.scope)
                let gateway = try EtcdGateway(settings: EtcdConnectionSettings(hosts: [etcd.endpoint]))
                let reader = EtcdStore(kv: gateway, layout: layout, memberName: nil, ttl: 20, retryTimeout: 5)

                // Patroni bootstraps PostgreSQL 18, takes the lock and publishes itself as a running primary.
                var view = ClusterState.empty
                let deadline = ContinuousClock.now + .seconds(90)
                while ContinuousClock.now < deadline {
                    view = try await reader.readCluster()
                    if view.leader?.name == "patroni1", view.member(named: "patroni1")?.record.state == "running",
                       view.status?.optime != nil, let sysid = view.initialize, !sysid.isEmpty { break }
                    if !patroni.process.isRunning { break }
                    try await Task.sleep(for: .milliseconds(500))
                }
                try #require(view.leader?.name == "patroni1", "Patroni did not become leader:\n\(patroni.logTail())")

                #expect(view.problems.isEmpty, "\(view.problems)")
                let member = try #require(view.member(named: "patroni1"))
                #expect(member.record.isPrimary && member.record.role == "primary")
                #expect(member.record.state == "running")
                #expect(member.record.version == "4.1.5")
                #expect(member.record.connURL == "postgres://\(patroni.host):\(patroni.postgresPort)/postgres")
                #expect(member.record.apiURL == "\(patroni.restURL)/patroni")
                #expect(member.record.timeline == 1)
                // Patroni publishes only the tags that are set: all-false tags leave no "tags" field.
                #expect(member.record.tags == nil)
                #expect(member.lease == view.leader?.lease, "Patroni too keeps both keys on one lease")
                #expect(view.initialize.map { UInt64($0) != nil } == true, "initialize holds the system identifier")
                #expect(view.config?.value["ttl"] == 20 && view.config?.value["loop_wait"] == 2)
                #expect(view.config?.value["postgresql"]?["use_pg_rewind"] == true)

                // Byte for byte: what Vigil would write for these values is what Patroni wrote.
                let raw = try await gateway.range(layout.prefix, rangeEnd: layout.prefix.prefixRangeEnd,
                                                  serializable: false, budget: .seconds(5)).kvs
                for kv in raw where kv.key.hasSuffix("/members/patroni1") {
                    let reencoded = try #require(MemberRecord(json: try JSONValue.parse(kv.value))).jsonValue.compactText
                    #expect(reencoded == kv.value)
                }
                for kv in raw where kv.key.hasSuffix("/config") || kv.key.hasSuffix("/status") {
                    #expect(try JSONValue.parse(kv.value).compactText == kv.value, "\(kv.key)")
                }
                if let status = raw.first(where: { $0.key.hasSuffix("/status") }) {
                    #expect(StatusRecord(json: try JSONValue.parse(status.value))?.jsonValue.compactText == status.value)
                }

                // Vigil's lock discipline holds against Patroni's lock.
                let intruder = EtcdStore(kv: gateway, layout: layout, memberName: "vigil1", ttl: 20, retryTimeout: 5)
                #expect(try await intruder.acquireLeader() == false)
                guard case .lost = try await intruder.renewLeader() else {
                    Issue.record("a member that never held the lock must not renew it")
                    return
                }
                #expect(try await intruder.releaseLeader() == false)
                #expect(try await reader.readCluster().leader?.name == "patroni1")
                await patroni.stop()
            } catch {
                await patroni.stop()
                throw error
            }
        }
    }
}
