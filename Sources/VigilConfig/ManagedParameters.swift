/// The PostgreSQL parameters a managed cluster passes on the postgres command line, so that
/// every member runs with the same values and ALTER SYSTEM cannot change them (Patroni's
/// CMDLINE_OPTIONS). They come only from the cluster-wide configuration; a number below its
/// minimum is replaced by the default. One table, read by the validator and by the instance.
public enum ManagedParameters {
    public struct Entry: Sendable {
        public var name: String
        public var fallback: String
        public var minimum: Int?
    }

    public static let commandLine: [Entry] = [
        Entry(name: "max_connections", fallback: "100", minimum: 25),
        Entry(name: "max_locks_per_transaction", fallback: "64", minimum: 32),
        Entry(name: "max_worker_processes", fallback: "8", minimum: 2),
        Entry(name: "max_prepared_transactions", fallback: "0", minimum: 0),
        Entry(name: "wal_level", fallback: "replica", minimum: nil),
        Entry(name: "wal_log_hints", fallback: "on", minimum: nil),
        Entry(name: "track_commit_timestamp", fallback: "off", minimum: nil),
        Entry(name: "max_wal_senders", fallback: "10", minimum: 3),
        Entry(name: "max_replication_slots", fallback: "10", minimum: 4),
        Entry(name: "hot_standby", fallback: "on", minimum: nil),
    ]

    public static let commandLineNames: Set<String> = Set(commandLine.map(\.name))

    /// The value a command-line parameter runs with, given what the configuration says.
    public static func effectiveValue(of entry: Entry, configured: String?) -> String {
        if entry.name == "hot_standby" { return "on" }
        guard let configured else { return entry.fallback }
        if let minimum = entry.minimum, let number = Int(configured), number < minimum { return entry.fallback }
        return configured
    }

    /// Parameters Vigil derives itself (from `postgresql.listen`, `scope`, the data directory).
    public static let derived: [String: String] = [
        "listen_addresses": "postgresql.listen", "port": "postgresql.listen", "cluster_name": "scope",
        "hba_file": "the data directory", "ident_file": "the data directory",
        "data_directory": "postgresql.data_dir", "config_file": "the data directory",
    ]
}
