import Testing
import VigilAPI
import VigilCore

/// `/metrics` keeps Patroni's names and labels, so existing dashboards read a Vigil node.
@Suite struct MetricsDocumentTests {
    @Test func aPrimaryReportsPatronisMetricsAndVigilsOwn() {
        var s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(
            state: .running, role: .primary, timeline: 3, walPosition: 67_395_656,
            postmasterStartTime: "2026-11-27 10:00:00.5+00"))
        s.postgres.serverVersion = 180006
        s.leaderUntil = .now + .seconds(20)
        s.fence = .armed(until: .now + .seconds(18))
        s.cycles.record(0.004)
        s.cycles.record(0.3)
        s.roleChanges["promoted_by_race"] = 1
        s.storeCalls["kv/range", default: CycleHistogram()].record(0.002)
        s.storeCalls["kv/range", default: CycleHistogram()].record(0.04)
        let text = MetricsDocument.render(s)
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"patroni_version{scope="demo",name="n1"} 040105"#))
        #expect(lines.contains(#"patroni_primary{scope="demo",name="n1"} 1"#))
        #expect(lines.contains(#"patroni_replica{scope="demo",name="n1"} 0"#))
        #expect(lines.contains(#"patroni_xlog_location{scope="demo",name="n1"} 67395656"#))
        #expect(lines.contains(#"patroni_postgres_timeline{scope="demo",name="n1"} 3"#))
        #expect(lines.contains(#"patroni_postgres_server_version{scope="demo",name="n1"} 180006"#))
        #expect(lines.contains(#"patroni_postgres_state{scope="demo",name="n1"} 5"#))
        #expect(lines.contains(#"patroni_postmaster_start_time{scope="demo",name="n1"} 1795773600.500000"#))
        #expect(lines.contains("# TYPE patroni_xlog_location counter"))
        #expect(lines.contains(#"vigil_ha_cycle_seconds_bucket{scope="demo",name="n1",le="0.005"} 1"#))
        #expect(lines.contains(#"vigil_ha_cycle_seconds_bucket{scope="demo",name="n1",le="+Inf"} 2"#))
        #expect(lines.contains(#"vigil_role_changes_total{scope="demo",name="n1",reason="promoted_by_race"} 1"#))
        #expect(text.contains("vigil_leader_lease_seconds_left"))
        #expect(lines.contains(#"vigil_fence_armed{scope="demo",name="n1"} 1"#))
        let left = lines.first { $0.hasPrefix("vigil_fence_seconds_left{") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(left.map { $0 > 17 && $0 <= 18 } == true, "\(String(describing: left))")
        #expect(lines.contains(#"vigil_store_call_seconds_bucket{scope="demo",name="n1",call="kv/range",le="0.005"} 1"#))
        #expect(lines.contains(#"vigil_store_call_seconds_bucket{scope="demo",name="n1",call="kv/range",le="0.05"} 2"#))
        #expect(lines.contains(#"vigil_store_call_seconds_count{scope="demo",name="n1",call="kv/range"} 2"#))
    }

    @Test func aStoppedReplicaReportsZeroes() {
        let s = NodeSnapshot(scope: "demo", name: "n2", postgres: PostgresStatus(state: .crashed("killed")))
        let lines = Set(MetricsDocument.render(s).split(separator: "\n").map(String.init))
        #expect(lines.contains(#"patroni_postgres_running{scope="demo",name="n2"} 0"#))
        #expect(lines.contains(#"patroni_postgres_state{scope="demo",name="n2"} 14"#))
        #expect(lines.contains(#"patroni_cluster_unlocked{scope="demo",name="n2"} 1"#))
    }
}
