import Foundation
import Logging
import NIOCore
import PostgresNIO
import VigilCore
import VigilSystem

/// The lab's SQL client (the superuser unless told otherwise): a quick connection for the
/// write probe, a patient one for setting up and counting, PostgreSQL's own words for a
/// failure, and the guide's stage-2 statements (its role and database).
public struct LabPostgres: Sendable {
    let host: String
    let port: Int
    let user: String
    let password: String
    let database: String
    private let logger = Logger(label: "vigil.lab.sql")

    public init(host: String, port: Int, user: String = "postgres", password: String, database: String = "postgres") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    func connect(timeout: Duration) async throws -> PostgresConnection {
        try await PostgresEndpoint(host: host, port: port, username: user, password: password, database: database)
            .connect(connectTimeout: timeout, logger: logger)
    }

    /// Runs `body` on a connection that may wait for a busy server (attempts for up to 30 s; a
    /// refused password fails at once), closed afterwards. Errors say what PostgreSQL said.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        var connection: PostgresConnection?
        while connection == nil {
            do {
                connection = try await connect(timeout: .seconds(5))
            } catch {
                if PostgresErrorText.isAuthenticationFailure(error) || ContinuousClock.now > deadline {
                    throw LabError(PostgresErrorText.describe(error))
                }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        guard let connection else { throw LabError("no connection to \(host):\(port)") }
        do {
            let result = try await body(connection, logger)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw LabError(PostgresErrorText.describe(error))
        }
    }

    /// The guide's application role (LOGIN CREATEDB), made unless it exists.
    func createRole(_ name: String, password: String) async throws {
        try await withConnection { connection, logger in
            guard try await Self.isEmpty(connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(name)", logger: logger)) else { return }
            _ = try await connection.query(PostgresQuery(unsafeSQL:
                "CREATE ROLE \(SQLText.identifier(name)) LOGIN CREATEDB PASSWORD \(SQLText.literal(password))"), logger: logger)
        }
    }

    /// `name` owned by `owner`, made unless it exists (CREATE DATABASE takes no parameters).
    func createDatabase(_ name: String, owner: String) async throws {
        try await withConnection { connection, logger in
            guard try await Self.isEmpty(connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger)) else { return }
            _ = try await connection.query(PostgresQuery(unsafeSQL:
                "CREATE DATABASE \(SQLText.identifier(name)) OWNER \(SQLText.identifier(owner))"), logger: logger)
        }
    }

    private static func isEmpty(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return false }
        return true
    }
}
