import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The client a drill measures with: one INSERT after another through HAProxy's write port,
/// each with the next id, reconnecting at once after any failure. It records which ids the
/// server acknowledged, when, and which server did, so downtime, lost writes and the timeline
/// can be worked out afterwards.
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
    static let connectTimeout = TimeAmount.milliseconds(500)
    static let writeTimeout = Duration.seconds(1)

    let host: String
    let port: Int
    let password: String
    private let acks = Mutex<[Ack]>([])
    private let failures = Mutex(0)
    private let logger = Logger(label: "vigil.drill.probe")

    init(host: String, port: Int, password: String) {
        self.host = host
        self.port = port
        self.password = password
    }

    var acknowledged: [Ack] { acks.withLock { $0 } }
    var failedAttempts: Int { failures.withLock { $0 } }

    func configuration(connectTimeout: TimeAmount) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: "postgres", password: password,
                                                             database: "postgres", tls: .disable)
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }

    /// The probe's own connection: it gives up fast and tries again.
    func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: configuration(connectTimeout: Self.connectTimeout), id: Int.random(in: 1...Int(Int32.max)), logger: logger)
    }

    /// A connection for setting up and counting, which may wait for a busy server: up to 30 s
    /// of attempts. The error says what PostgreSQL said (PostgresNIO hides it by default).
    func patientConnect() async throws -> PostgresConnection {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await PostgresConnection.connect(
                    configuration: configuration(connectTimeout: .seconds(5)), id: Int.random(in: 1...Int(Int32.max)), logger: logger)
            } catch {
                if ContinuousClock.now > deadline { throw LabError(Self.describe(error)) }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    func prepare() async throws {
        let connection = try await patientConnect()
        defer { Task { try? await connection.close() } }
        _ = try await connection.query("CREATE TABLE IF NOT EXISTS vigil_drill (id bigint PRIMARY KEY, at timestamptz DEFAULT now())",
                                       logger: logger).get()
        _ = try await connection.query("TRUNCATE vigil_drill", logger: logger).get()
    }

    /// Writes until cancelled.
    func run() async {
        var next: Int64 = 1
        var connection: PostgresConnection?
        while !Task.isCancelled {
            let began = ContinuousClock.now
            do {
                if connection == nil || connection?.isClosed == true { connection = try await withTimeout { try await self.connect() } }
                guard let open = connection else { continue }
                let id = next
                let server = try await withTimeout {
                    let rows = try await open.query("INSERT INTO vigil_drill (id) VALUES (\(id)) RETURNING host(inet_server_addr())",
                                                    logger: self.logger)
                    var server = ""
                    for try await address in rows.decode(String.self) { server = address }
                    return server
                }
                acks.withLock { $0.append(Ack(id: id, at: .now, server: server)) }
                next += 1
                let rest = Self.interval - (ContinuousClock.now - began)
                if rest > .zero { try? await Task.sleep(for: rest) }
            } catch {
                failures.withLock { $0 += 1 }
                // Closed in the background: closing a connection to a dead server may itself hang.
                if let open = connection { Task { try? await open.close() } }
                connection = nil
                // Every failed attempt used an id that may or may not have committed: never reuse it.
                next += 1
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        if let connection { try? await connection.close() }
    }

    /// Creates the login role `name` (CREATEDB) unless it exists.
    func createRole(_ name: String, password: String) async throws {
        let connection = try await patientConnect()
        defer { Task { try? await connection.close() } }
        var exists = false
        for try await _ in try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(name)", logger: logger) {
            exists = true
        }
        if !exists {
            let quotedName = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let quotedPassword = "'" + password.replacingOccurrences(of: "'", with: "''") + "'"
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(quotedName) LOGIN CREATEDB PASSWORD \(quotedPassword)"),
                                           logger: logger)
        }
    }

    /// Creates `name` owned by `owner` unless it exists (CREATE DATABASE takes no parameters:
    /// both are quoted identifiers, the existence check a literal).
    func createDatabase(_ name: String, owner: String) async throws {
        let connection = try await patientConnect()
        defer { Task { try? await connection.close() } }
        let literal = "'" + name.replacingOccurrences(of: "'", with: "''") + "'"
        func identifier(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var exists = false
        for try await _ in try await connection.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM pg_database WHERE datname = \(literal)"),
                                                      logger: logger) {
            exists = true
        }
        if !exists {
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(identifier(name)) OWNER \(identifier(owner))"),
                                           logger: logger)
        }
    }

    /// Ids present in the table now (read through the write port: the primary).
    func presentIDs() async throws -> Set<Int64> {
        let connection = try await patientConnect()
        defer { Task { try? await connection.close() } }
        var ids = Set<Int64>()
        for try await id in try await connection.query("SELECT id FROM vigil_drill", logger: logger).decode(Int64.self) {
            ids.insert(id)
        }
        return ids
    }

    /// A call that gives up after `writeTimeout` without waiting for it: a connection stuck behind a dead
    /// primary must not stall the probe (the abandoned call ends when its connection is closed).
    private func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = Once()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let work = Task {
                do {
                    let value = try await body()
                    if once.first() { continuation.resume(returning: value) }
                } catch {
                    if once.first() { continuation.resume(throwing: error) }
                }
            }
            Task {
                try? await Task.sleep(for: Self.writeTimeout)
                if once.first() {
                    work.cancel()
                    continuation.resume(throwing: LabError("no answer within \(Self.writeTimeout)"))
                }
            }
        }
    }
}

/// True for the first caller only.
private final class Once: Sendable {
    private let done = Mutex(false)

    func first() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
