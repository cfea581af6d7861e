import Foundation
import PostgresNIO
import Testing
import VigilTestSupport
@testable import VigilLab

/// The drills' write probe counts a write as acknowledged only when PostgreSQL said so.
@Suite struct WriteProbeTests {
    /// The drill's SVG shows each node's acknowledged writes, the failed attempts through
    /// HAProxy, and the fault, the new primary serving and the node given back; a label whose
    /// line is near the right edge ends at its line instead of running off the picture.
    @Test func theTimelineShowsFailuresAndThePromotionWithEveryLabelInside() throws {
        let start = ContinuousClock.now
        func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }
        let acks = (0..<10).map { WriteProbe.Ack(id: Int64($0), at: at(Double($0)), server: $0 < 5 ? "127.0.0.21" : "127.0.0.22") }
        let timeline = DrillTimeline(acks: acks, start: start, fault: at(4.5), restored: at(9.9),
                                     nodes: [("n1", "127.0.0.21"), ("n2", "127.0.0.22")],
                                     failures: [at(4.6), at(4.8), at(5.0)], primaryServing: at(5.2))
        let svg = timeline.svg(title: "agent-crash")
        let width = try #require(svg.firstMatch(of: /width="(\d+)"/).flatMap { Double($0.1) })
        for line in svg.split(separator: "\n") where line.hasPrefix("<text") {
            let match = try #require(line.firstMatch(of: /x="([0-9.]+)".*>([^<]*)<\/text>/))
            let x = Double(match.1) ?? 0
            let right = line.contains("text-anchor=\"end\"") ? x : x + Double(match.2.count) * 7
            #expect(right <= width || line.contains("font-size=\"14\""), "'\(match.2)' runs past the right edge (\(right) > \(width))")
        }
        #expect(svg.contains(">new primary serving</text>") && svg.contains(">node given back</text>") && svg.contains(">failed writes</text>"))
        let failed = try #require(svg.split(separator: "\n").first { $0.contains("stroke=\"#ff7f0e\"") && $0.hasPrefix("<path") })
        #expect(failed.filter { $0 == "M" }.count == 3, "one tick per failed attempt")
        #expect(svg.contains(##"stroke="#9467bd" stroke-width="2" stroke-dasharray="4 3""##), "the new primary's line, dashed")
    }

    /// A commit that waits for a synchronous standby, on a server that is then stopped (a fast
    /// shutdown terminates every backend), committed locally but was never acknowledged:
    /// PostgreSQL warns and closes the connection without answering the commit (libpq reports
    /// the connection lost). In the extended protocol an autocommit INSERT's "INSERT 0 1" comes
    /// before that commit, so a probe that trusted it counted the write, and a drill in
    /// synchronous mode reported it lost though no client was told it committed.
    @Test func aWriteCutOffWhileWaitingForASynchronousStandbyIsNotAcknowledged() async throws {
        try await TestPostgres.with { server in
            let postgres = LabPostgres(host: server.host, port: server.port, password: server.password)
            let probe = WriteProbe(postgres)
            try await probe.prepare()
            try await postgres.withConnection { connection, logger in
                _ = try await connection.query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'", logger: logger)
                _ = try await connection.query("SELECT pg_reload_conf()", logger: logger)
            }
            try await Task.sleep(for: .milliseconds(500))
            let writer = Task { await probe.run() }
            // The first write waits for the standby that never comes; its backend is then
            // terminated as a fast shutdown does it (SIGTERM), within the probe's 1 s timeout.
            var waiting = 0
            for _ in 0..<20 where waiting == 0 {
                try await Task.sleep(for: .milliseconds(25))
                waiting = try await postgres.withConnection { connection, logger in
                    var count = 0
                    for try await pid in try await connection.query(
                        "SELECT pg_terminate_backend(pid)::int FROM pg_stat_activity WHERE wait_event = 'SyncRep'", logger: logger
                    ).decode(Int.self) { count += pid }
                    return count
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            writer.cancel()
            _ = await writer.value
            #expect(waiting == 1, "no write was found waiting for the synchronous standby")
            #expect(probe.acknowledged.isEmpty, "counted as acknowledged: \(probe.acknowledged.map(\.id))")
            // It did commit locally: the loss a drill would have reported was this row's absence elsewhere.
            #expect(try await probe.presentIDs().contains(1))
        }
    }
}
