/// A PostgreSQL role and how to connect as it (`postgresql.authentication.<role>`).
public struct PostgresCredentials: Sendable, Equatable {
    public var username: String?
    public var password: Secret?
    /// libpq options that travel with the role: sslmode, sslcert, channel_binding…
    public var connectionOptions: [String: String]
    /// The client key's passphrase; kept apart from the printable options.
    public var sslPassword: Secret?

    static let libpqOptions = ["sslmode", "sslkey", "sslcert", "sslrootcert", "sslcrl", "sslcrldir",
                               "sslnegotiation", "gssencmode", "channel_binding"]

    init?(_ s: ConfigSection) {
        guard s.exists else { return nil }
        username = s.string("username")
        password = s.string("password").map(Secret.init)
        var options: [String: String] = [:]
        for key in Self.libpqOptions {
            if let value = s.string(key) { options[key] = value }
        }
        connectionOptions = options
        sslPassword = s.string("sslpassword").map(Secret.init)
    }
}

/// `postgresql.authentication`: superuser and replication are required; rewind is optional.
public struct PostgresAuthentication: Sendable {
    public var superuser: PostgresCredentials?
    public var replication: PostgresCredentials?
    public var rewind: PostgresCredentials?

    init(_ s: ConfigSection) {
        superuser = PostgresCredentials(s.section("superuser"))
        replication = PostgresCredentials(s.section("replication"))
        rewind = PostgresCredentials(s.section("rewind"))
    }
}

/// One GUC as written in a `parameters:` mapping, with where it was written.
public struct Parameter: Sendable {
    public var name: String
    /// As PostgreSQL would read it: YAML flags become on/off.
    public var value: String
    public var location: SourceLocation?
}

extension [Parameter] {
    public subscript(name: String) -> Parameter? { last { $0.name == name } }

    init(_ s: ConfigSection, _ key: String) {
        self = (s.scalarMap(key) ?? []).map { Parameter(name: $0.key, value: $0.value, location: $0.location) }
    }
}

/// `postgresql:` — this node's PostgreSQL: where it lives, how it is reached, what it runs with.
public struct PostgresConfig: Sendable {
    public var location: SourceLocation?
    public var listen: String?
    public var connectAddress: String?
    public var proxyAddress: String?
    public var dataDir: String?
    public var configDir: String?
    public var binDir: String?
    /// Replacement names for the binaries (pg_ctl, initdb, postgres, …).
    public var binName: [String: String]
    public var pgpass: String?
    public var database: String
    public var authentication: PostgresAuthentication
    public var parameters: [Parameter]
    public var customConf: String?
    public var pgHBA: [String]?
    public var pgIdent: [String]?
    public var pgCtlTimeout: Int?
    public var usePgRewind: Bool?
    public var useUnixSocket: Bool
    public var useUnixSocketRepl: Bool
    public var createReplicaMethods: [String]
    /// Options for pg_basebackup: a list of flags / key-values, or a mapping.
    public var basebackup: ConfigNode?
    public var recoveryConf: ConfigNode?
    /// on_start, on_stop, on_restart, on_reload, on_role_change → command
    public var callbacks: [String: String]
    public var prePromote: String?
    public var beforeStop: String?
    public var removeDataDirectoryOnRewindFailure: Bool
    public var removeDataDirectoryOnDivergedTimelines: Bool
    /// Sections of custom replica-creation methods named in `create_replica_methods`.
    public var replicaMethodSections: [String: ConfigNode]

    init(_ s: ConfigSection) {
        location = s.location
        listen = s.string("listen")
        connectAddress = s.string("connect_address")
        proxyAddress = s.string("proxy_address")
        dataDir = s.string("data_dir")
        configDir = s.string("config_dir")
        binDir = s.string("bin_dir")
        binName = Dictionary((s.scalarMap("bin_name") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        pgpass = s.string("pgpass")
        database = s.string("database") ?? "postgres"
        authentication = PostgresAuthentication(s.section("authentication"))
        parameters = [Parameter](s, "parameters")
        customConf = s.string("custom_conf")
        pgHBA = s.strings("pg_hba")
        pgIdent = s.strings("pg_ident")
        pgCtlTimeout = s.int("pg_ctl_timeout")
        usePgRewind = s.bool("use_pg_rewind")
        useUnixSocket = s.bool("use_unix_socket") ?? false
        useUnixSocketRepl = s.bool("use_unix_socket_repl") ?? false
        createReplicaMethods = s.strings("create_replica_methods") ?? ["basebackup"]
        basebackup = s.whole("basebackup")
        recoveryConf = s.whole("recovery_conf")
        callbacks = Dictionary((s.scalarMap("callbacks") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        prePromote = s.string("pre_promote")
        beforeStop = s.string("before_stop")
        removeDataDirectoryOnRewindFailure = s.bool("remove_data_directory_on_rewind_failure") ?? false
        removeDataDirectoryOnDivergedTimelines = s.bool("remove_data_directory_on_diverged_timelines") ?? false
        var methods: [String: ConfigNode] = [:]
        for method in createReplicaMethods where method != "basebackup" {
            if let node = s.whole(method) { methods[method] = node }
        }
        replicaMethodSections = methods
    }
}
