import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import VigilSystem

/// The client a drill measures with: one INSERT after another through HAProxy's write port (or
/// straight to one node's PostgreSQL, as a job or a client that bypasses HAProxy would), each
/// with the next id, reconnecting at once after a failure. It records which ids the server
/// acknowledged, when, and which server did, so downtime, lost writes, two primaries at once
/// and the timeline can be worked out afterwards.
///
/// Its own timeouts are well under a second (connect 0.5 s, each write 1 s): libpq's
/// `connect_timeout` cannot go below 2 s, which would hide short outages.
final class WriteProbe: Sendable {
    struct Ack: Sendable {
        var id: Int64
        var at: ContinuousClock.Instant
        /// The address of the server that acknowledged it (`inet_server_addr()`).
        var server: String
    }

    /// One write every 20 ms at most: fine enough to time an outage, light enough not to be
    /// the load that slows the failover down.
    static let interval = Duration.milliseconds(20)
    static let connectTimeout = Duration.milliseconds(500)
    static let writeTimeout = Duration.seconds(1)

    /// Where it writes: HAProxy's write port, or one node.
    let postgres: LabPostgres
    /// `haproxy`, or the node's name for a direct client.
    let path: String
    /// Its ids start here, so that every probe writes to the same table without clashing.
    let firstID: Int64
    /// A direct client stays connected when the server refuses a write (a replica is
    /// read-only): it goes on asking, without a new connection each time.
    let direct: Bool
    private let acks = Mutex<[Ack]>([])
    /// When each attempt failed (a refused connection, a write that errored or timed out).
    private let failures = Mutex<[ContinuousClock.Instant]>([])
    private let logger = Logger(label: "vigil.drill.probe")

    init(_ postgres: LabPostgres, path: String = "haproxy", firstID: Int64 = 1, direct: Bool = false) {
        self.postgres = postgres
        self.path = path
        self.firstID = firstID
        self.direct = direct
    }

    var acknowledged: [Ack] { acks.withLock { $0 } }
    var failedAttempts: Int { failures.withLock { $0.count } }
    var failedAt: [ContinuousClock.Instant] { failures.withLock { $0 } }

    /// The probe's own connection: it gives up fast and tries again.
    func connect() async throws -> PostgresConnection {
        try await postgres.connect(timeout: Self.connectTimeout)
    }

    func prepare() async throws {
        try await postgres.withConnection { connection, logger in
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS vigil_drill (id bigint PRIMARY KEY, at timestamptz DEFAULT now())",
                                           logger: logger)
            _ = try await connection.query("TRUNCATE vigil_drill", logger: logger)
        }
    }

    /// Writes until cancelled.
    func run() async {
        var next = firstID
        var connection: PostgresConnection?
        while !Task.isCancelled {
            let began = ContinuousClock.now
            do {
                if connection == nil || connection?.isClosed == true { connection = try await withTimeout { try await self.connect() } }
                guard let open = connection else { continue }
                let id = next
                let server = try await withTimeout {
                    // Acknowledged means the COMMIT statement's answer. An INSERT on its own is
                    // committed at the protocol's Sync, after the "INSERT 0 1" PostgresNIO
                    // already takes for success: a server stopped while that commit waits for a
                    // synchronous standby sends the row, the tag and a warning ("canceling the
                    // wait for synchronous replication"), then closes the connection, and the
                    // write would count as acknowledged though no client was told it committed
                    // (libpq reports the lost connection). COMMIT commits before it answers.
                    _ = try await open.query("BEGIN", logger: self.logger)
                    var server = ""
                    let rows = try await open.query("INSERT INTO vigil_drill (id) VALUES (\(id)) RETURNING host(inet_server_addr())",
                                                    logger: self.logger)
                    for try await address in rows.decode(String.self) { server = address }
                    let commit: EventLoopFuture<PostgresQueryResult> = open.query("COMMIT", logger: self.logger)
                    guard try await commit.get().metadata.command == "COMMIT" else { throw WriteNotAcknowledged() }
                    return server
                }
                acks.withLock { $0.append(Ack(id: id, at: .now, server: server)) }
                next += 1
                let rest = Self.interval - (ContinuousClock.now - began)
                if rest > .zero { try? await Task.sleep(for: rest) }
            } catch {
                failures.withLock { $0.append(ContinuousClock.now) }
                next += 1
                if direct, let psql = error as? PSQLError, psql.serverInfo != nil, let open = connection {
                    // The server answered (read-only, shutting down…): the session is fine once
                    // the failed transaction is rolled back.
                    if (try? await withTimeout({ _ = try await open.query("ROLLBACK", logger: self.logger) })) != nil {
                        try? await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                }
                // Closed in the background: closing a connection to a dead server may itself hang.
                if let open = connection { Task { try? await open.close() } }
                connection = nil
                // Every failed attempt used an id that may or may not have committed: never reuse it
                // (counted above).
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        if let connection { try? await connection.close() }
    }

    /// Ids present in the table now (read through the write port: the primary).
    func presentIDs() async throws -> Set<Int64> {
        try await postgres.withConnection { connection, logger in
            var ids = Set<Int64>()
            for try await id in try await connection.query("SELECT id FROM vigil_drill", logger: logger).decode(Int64.self) {
                ids.insert(id)
            }
            return ids
        }
    }

    /// A call that gives up after `writeTimeout` without waiting for it: a connection stuck behind a dead
    /// primary must not stall the probe (the abandoned call ends when its connection is closed).
    private func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Deadline.run(within: Self.writeTimeout, body)
    }
}

/// A write whose COMMIT was answered with something else (ROLLBACK: the transaction failed).
struct WriteNotAcknowledged: Error {}
