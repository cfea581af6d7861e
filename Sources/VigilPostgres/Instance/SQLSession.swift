import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The agent's own connection to its PostgreSQL, kept open between queries and reopened
/// after any failure. Every query has a deadline; one that passes it closes the connection,
/// so a stuck server never stalls the caller.
actor SQLSession {
    private let configuration: PostgresConnection.Configuration
    private var connection: PostgresConnection?
    private var nextID = 1
    private let logger = Logger(label: "vigil.postgres.sql")

    init(host: String, port: Int, credentials: RoleCredentials, database: String) {
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: credentials.username,
                                  password: credentials.password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: credentials.username,
                                  password: credentials.password, database: database, tls: .disable)
        }
    }

    /// Runs `sql` and returns every row as text cells (cast in SQL where needed).
    func rows(_ sql: String, timeout: Duration = .seconds(5)) async throws(InstanceError) -> [[String?]] {
        do {
            return try await withDeadline(timeout) {
                let connection = try await self.open()
                var out: [[String?]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) {
                    out.append(try row.makeRandomAccess().map { try $0.decode(String?.self) })
                }
                return out
            }
        } catch let error as InstanceError {
            await close()
            throw error
        } catch {
            await close()
            throw InstanceError(error.isAuthenticationFailure ? .authentication : .query, Self.describe(error))
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
        nextID += 1
        let opened = try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
        connection = opened
        return opened
    }

    private func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                // PostgresNIO does not give up a query on cancellation: closing the connection
                // fails it, so the query task ends and this group can return.
                await self.abandonConnection()
                throw InstanceError(.timeout, "no answer from PostgreSQL within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// PostgresNIO's errors carry the server's message in a nested field; this finds it.
    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] {
                return message
            }
            return "\(psql.code)"
        }
        return "\(error)"
    }
}

extension Error {
    var isAuthenticationFailure: Bool {
        guard let psql = self as? PSQLError, let code = psql.serverInfo?[.sqlState] else { return false }
        return code == "28P01" || code == "28000"
    }
}
