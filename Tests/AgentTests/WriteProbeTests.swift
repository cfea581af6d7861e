import Foundation
import PostgresNIO
import Testing
import VigilTestSupport
@testable import VigilLab

/// The drills' write probe counts a write as acknowledged only when PostgreSQL said so.
@Suite struct WriteProbeTests {
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
