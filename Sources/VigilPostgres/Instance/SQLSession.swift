import Logging
import NIOCore
import PostgresNIO
import VigilSystem

/// The agent's own connection to its PostgreSQL, kept open between queries and reopened
/// after any failure. Every query has a deadline; one that passes it closes the connection,
/// so a stuck server never stalls the caller.
actor SQLSession {
    private let endpoint: PostgresEndpoint
    private var connection: PostgresConnection?
    private let logger = Logger(label: "vigil.postgres.sql")

    init(host: String, port: Int, credentials: RoleCredentials, database: String) {
        endpoint = PostgresEndpoint(host: host, port: port, username: credentials.username, password: credentials.password,
                                    database: database)
    }

    /// Runs `sql` and returns every row as text cells (cast in SQL where needed).
    func rows(_ sql: String, timeout: Duration = .seconds(5)) async throws(InstanceError) -> [[String?]] {
        do {
            // PostgresNIO does not give up a query on cancellation: at the deadline the
            // connection is closed, which fails the query, so nothing is left waiting on it.
            return try await Deadline.run(within: timeout, onTimeout: { await self.abandonConnection() }) {
                let connection = try await self.open()
                var out: [[String?]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) {
                    out.append(try row.makeRandomAccess().map { try $0.decode(String?.self) })
                }
                return out
            }
        } catch is DeadlinePassed {
            throw InstanceError(.timeout, "no answer from PostgreSQL within \(timeout)")
        } catch {
            await close()
            throw InstanceError(PostgresErrorText.isAuthenticationFailure(error) ? .authentication : .query,
                                PostgresErrorText.describe(error))
        }
    }

    func execute(_ sql: String, timeout: Duration = .seconds(30)) async throws(InstanceError) {
        _ = try await rows(sql, timeout: timeout)
    }

    func close() async {
        if let connection {
            self.connection = nil
            try? await connection.close()
        }
    }

    private func abandonConnection() {
        guard let connection else { return }
        self.connection = nil
        // The connection must outlive its close (PostgresNIO traps on one released while still
        // open, e.g. after a query's deadline passed because this process was stopped).
        (connection.close() as EventLoopFuture<Void>).whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let opened = try await endpoint.connect(logger: logger)
        connection = opened
        return opened
    }
}
