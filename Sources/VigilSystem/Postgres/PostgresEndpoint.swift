import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Where and as whom to reach a PostgreSQL server: the one way the agent, `vigilctl query`,
/// the lab and the tests open a connection. A host that starts with `/` is a directory
/// holding the server's Unix socket, as in libpq. Plain TCP: the guide's cluster speaks no
/// TLS to PostgreSQL.
public struct PostgresEndpoint: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int, username: String, password: String?, database: String = "postgres") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// `host:port`, or the socket file's path; never the password.
    public var description: String { usesSocket ? socketPath : "\(host):\(port)" }

    var usesSocket: Bool { host.hasPrefix("/") }
    var socketPath: String { "\(host)/.s.PGSQL.\(port)" }

    public func configuration(connectTimeout: Duration) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if usesSocket {
            configuration = .init(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: username, password: password, database: database,
                                  tls: .disable)
        }
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        return configuration
    }

    /// Opens a connection; the caller closes it. Fails with PostgresNIO's error, which
    /// `PostgresErrorText` puts into words.
    public func connect(connectTimeout: Duration = .seconds(5), logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: configuration(connectTimeout: connectTimeout),
                                             id: Self.nextID.add(1, ordering: .relaxed).newValue, logger: logger)
    }

    /// Connection ids only tell connections apart in PostgresNIO's own log lines.
    private static let nextID = Atomic<Int>(0)
}

extension TimeAmount {
    /// A Swift `Duration` in NIO's unit, rounded down to the nanosecond.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
