import Foundation
import Logging
import PostgresNIO
import Testing
import VigilCore
import VigilPostgres
import VigilTestSupport

/// A new cluster from the guide's CT 104 settings, on real PostgreSQL 18.
@Suite struct BootstrapTests {
    @Test func bootstrapCreatesTheGuidesRolesAndDatabase() async throws {
        try await TestNode.with(["postgres104"]) { nodes in
            let node = nodes[0]
            let sysid = try await node.instance.bootstrap(databases: [("sqluser_db", "sqlUser")])
            #expect(UInt64(sysid) != nil)
            #expect(try await node.instance.query("SHOW data_checksums").first?.first == "on")
            #expect(try await node.instance.query("SELECT rolreplication::text FROM pg_roles WHERE rolname = 'replicator'")
                .first?.first == "true")
            #expect(try await node.instance.query("SELECT current_setting('cluster_name')").first?.first == "postgres_cluster")
            #expect(try await node.instance.query("SELECT current_setting('wal_keep_size')").first?.first == "128MB",
                    "the guide's wal_keep_segments: 8 becomes wal_keep_size")
            #expect(try await node.instance.query("SELECT current_setting('max_replication_slots')").first?.first == "10",
                    "the guide's max_replication_slots: 3 is below the minimum: the default applies")

            // sqlUser logs in over TCP with its password (the guide's md5 line) and may create databases.
            let connection = try await PostgresConnection.connect(
                configuration: .init(host: node.host, port: node.port, username: "sqlUser", password: "Qwe1234!",
                                     database: "sqluser_db", tls: .disable),
                id: 1, logger: Logger(label: "test"))
            try await connection.query("CREATE DATABASE made_by_sqluser", logger: Logger(label: "test"))
            try await connection.close()
            #expect(try await node.instance.query("SELECT 1 FROM pg_database WHERE datname = 'made_by_sqluser'").count == 1)

            // Passwords never reach PostgreSQL's log.
            let log = try String(contentsOfFile: node.instance.logFile, encoding: .utf8)
            #expect(!log.contains("Qwe1234!") && !log.contains("Replicator123!"))
        }
    }

    /// The agent starts a primary without waiting out a long recovery: the server is left
    /// `.starting` and observed into `.running` once it answers.
    @Test func aStartLeftStartingIsObservedRunningOnceItAnswers() async throws {
        try await TestNode.with(["n1"]) { nodes in
            let node = nodes[0]
            _ = try await node.instance.bootstrap()
            try await node.instance.stop(.fast)
            try await node.instance.start(.primary, readyWithin: .zero)
            let right = await node.instance.currentState
            #expect(right == .starting, "right after start: \(right)")
            var state = PostgresStatus.State.starting
            for _ in 0..<100 where state != .running {
                state = await node.instance.observe(timeout: .seconds(2)).state
                if state != .running { try await Task.sleep(for: .milliseconds(100)) }
            }
            // PostgreSQL's own words when it did not get there (seen once: it exited 0 under load).
            let log = (try? String(contentsOfFile: node.instance.logFile, encoding: .utf8)) ?? ""
            #expect(state == .running, "\(log.split(separator: "\n").suffix(15).joined(separator: "\n"))")
            #expect(try await node.instance.query("SELECT pg_is_in_recovery()::text").first?.first == "false")
        }
    }

    @Test func bootstrapRefusesADataDirectoryThatIsNotEmpty() async throws {
        try await TestNode.with(["n1"]) { nodes in
            let node = nodes[0]
            try FileManager.default.createDirectory(atPath: node.settings.dataDirectory, withIntermediateDirectories: true)
            try "x".write(toFile: node.settings.dataDirectory + "/precious", atomically: true, encoding: .utf8)
            let error = await #expect(throws: InstanceError.self) { _ = try await node.instance.bootstrap() }
            #expect(error?.kind == .dataDirectory)
            #expect(FileManager.default.fileExists(atPath: node.settings.dataDirectory + "/precious"))
        }
    }
}
