import Foundation
import VigilConfig
import VigilCore

/// Everything one PostgreSQL instance needs, resolved from a node's configuration: paths,
/// addresses, roles, the parameters it runs with, and how it is cloned and rewound.
public struct InstanceSettings: Sendable {
    public var memberName: String
    public var scope: String
    public var dataDirectory: String
    public var binaries: PostgresBinaries
    /// `listen_addresses` and `port`, from `postgresql.listen`.
    public var listenHosts: [String]
    public var port: Int
    /// Where other members reach this instance (`postgresql.connect_address`).
    public var connectAddress: HostPort
    /// The first of `unix_socket_directories`, where the agent connects; nil: over TCP.
    public var socketDirectory: String?
    public var superuser: RoleCredentials
    public var replication: RoleCredentials
    public var rewind: RoleCredentials?
    public var pgpassPath: String
    public var database: String
    /// GUCs for the managed file, in order; the command-line ones are in `commandLineParameters`.
    public var parameters: [(name: String, value: String)]
    /// Cluster-wide settings passed as `-c` so ALTER SYSTEM cannot change them.
    public var commandLineParameters: [(name: String, value: String)]
    /// `pg_hba.conf` lines after Vigil's own local line.
    public var hbaLines: [String]
    /// Whether `hbaLines` replace initdb's file (postgresql.pg_hba) or are appended to it (bootstrap.pg_hba).
    public var hbaReplacesDefaults: Bool
    public var initdbArguments: [String]
    public var bootstrapRoles: [RoleSpec]
    public var usePgRewind: Bool
    public var useSlots: Bool
    public var basebackupArguments: [String]
    /// How a replica's data directory is made, in order (`create_replica_methods`).
    public var replicaMethods: [ReplicaMethod]
    public var startTimeout: Duration
    public var removeDataDirectoryOnRewindFailure: Bool

    public init(memberName: String, scope: String, dataDirectory: String, binaries: PostgresBinaries,
                listenHosts: [String], port: Int, connectAddress: HostPort, socketDirectory: String?,
                superuser: RoleCredentials, replication: RoleCredentials, rewind: RoleCredentials? = nil,
                pgpassPath: String, database: String = "postgres", parameters: [(name: String, value: String)] = [],
                commandLineParameters: [(name: String, value: String)] = [], hbaLines: [String] = [],
                hbaReplacesDefaults: Bool = false, initdbArguments: [String] = [], bootstrapRoles: [RoleSpec] = [],
                usePgRewind: Bool = true, useSlots: Bool = true, basebackupArguments: [String] = [],
                replicaMethods: [ReplicaMethod] = [.basebackup],
                startTimeout: Duration = .seconds(60), removeDataDirectoryOnRewindFailure: Bool = false) {
        self.memberName = memberName
        self.scope = scope
        self.dataDirectory = dataDirectory
        self.binaries = binaries
        self.listenHosts = listenHosts
        self.port = port
        self.connectAddress = connectAddress
        self.socketDirectory = socketDirectory
        self.superuser = superuser
        self.replication = replication
        self.rewind = rewind
        self.pgpassPath = pgpassPath
        self.database = database
        self.parameters = parameters
        self.commandLineParameters = commandLineParameters
        self.hbaLines = hbaLines
        self.hbaReplacesDefaults = hbaReplacesDefaults
        self.initdbArguments = initdbArguments
        self.bootstrapRoles = bootstrapRoles
        self.usePgRewind = usePgRewind
        self.useSlots = useSlots
        self.basebackupArguments = basebackupArguments
        self.replicaMethods = replicaMethods
        self.startTimeout = startTimeout
        self.removeDataDirectoryOnRewindFailure = removeDataDirectoryOnRewindFailure
    }

    /// Resolves a node's configuration; `dynamic` is the cluster-wide config in force
    /// (`bootstrap.dcs` before the cluster exists, the store's `config` key after).
    public static func resolve(_ c: Configuration, dynamic: DynamicConfig? = nil) throws(InstanceError) -> InstanceSettings {
        let pg = c.postgresql
        func require(_ value: String?, _ key: String) throws(InstanceError) -> String {
            guard let value, !value.isEmpty else { throw InstanceError(.state, "\(key) is not set; run vigilctl check-config") }
            return value
        }
        // PostgreSQL runs with "/" as its working directory: relative paths are taken from the agent's.
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : ((FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
        }
        let name = try require(c.name, "name")
        let scope = try require(c.scope, "scope")
        let dataDirectory = absolute(try require(pg.dataDir, "postgresql.data_dir"))
        guard let listen = HostPort(try require(pg.listen, "postgresql.listen")) else {
            throw InstanceError(.address, "postgresql.listen \(pg.listen ?? "") is not HOST:PORT")
        }
        guard let connect = HostPort(try require(pg.connectAddress, "postgresql.connect_address")) else {
            throw InstanceError(.address, "postgresql.connect_address \(pg.connectAddress ?? "") is not HOST:PORT")
        }
        func role(_ credentials: PostgresCredentials?, _ key: String) throws(InstanceError) -> RoleCredentials {
            RoleCredentials(username: try require(credentials?.username, "postgresql.authentication.\(key).username"),
                            password: credentials?.password?.value)
        }
        let dyn = dynamic ?? c.bootstrap.dcs
        // Cluster-wide GUCs first, then local ones over them; the command-line set comes only
        // from the cluster-wide config (as in Patroni), where a value below its floor is replaced.
        var merged: [(name: String, value: String)] = []
        func set(_ name: String, _ value: String) {
            if let i = merged.firstIndex(where: { $0.name == name }) { merged[i].value = value } else { merged.append((name, value)) }
        }
        let commandLineNames = ManagedParameters.commandLineNames
        for p in dyn.postgresql.parameters { set(p.name, p.value) }
        for p in pg.parameters where !commandLineNames.contains(p.name) { set(p.name, p.value) }
        // wal_keep_segments is gone since PostgreSQL 13: 16 MB segments each.
        if let i = merged.firstIndex(where: { $0.name == "wal_keep_segments" }) {
            let segments = Int(merged[i].value) ?? 8
            merged.remove(at: i)
            if !merged.contains(where: { $0.name == "wal_keep_size" }) { merged.append(("wal_keep_size", "\(segments * 16)MB")) }
        }
        var commandLine: [(name: String, value: String)] = []
        for entry in ManagedParameters.commandLine {
            let configured = merged.first(where: { $0.name == entry.name })?.value
            commandLine.append((entry.name, ManagedParameters.effectiveValue(of: entry, configured: configured)))
        }
        merged.removeAll { commandLineNames.contains($0.name) || ManagedParameters.derived[$0.name] != nil }
        if let i = merged.firstIndex(where: { $0.name == "unix_socket_directories" }) {
            merged[i].value = merged[i].value.split(separator: ",").map { entry in
                let dir = entry.trimmingCharacters(in: .whitespaces)
                return dir.isEmpty || dir.hasPrefix("@") ? dir : absolute(dir)
            }.joined(separator: ",")
        }
        let socketDirectory = merged.first(where: { $0.name == "unix_socket_directories" })?.value
            .split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }

        let superuser = try role(pg.authentication.superuser, "superuser")
        let replication = try role(pg.authentication.replication, "replication")
        var roles: [RoleSpec] = [RoleSpec(credentials: replication, options: ["replication"])]
        for user in c.bootstrap.users where user.name != superuser.username && user.name != replication.username {
            roles.append(RoleSpec(credentials: RoleCredentials(username: user.name, password: user.password?.value),
                                  options: user.options))
        }
        let rewind = pg.authentication.rewind.flatMap { credentials in
            credentials.username.map { RoleCredentials(username: $0, password: credentials.password?.value) }
        }
        return InstanceSettings(
            memberName: name, scope: scope, dataDirectory: dataDirectory,
            binaries: try PostgresBinaries.locate(binDir: pg.binDir.map(absolute), names: pg.binName),
            listenHosts: listen.hosts, port: listen.port, connectAddress: connect, socketDirectory: socketDirectory,
            superuser: superuser, replication: replication, rewind: rewind,
            pgpassPath: pg.pgpass.map(absolute) ?? NSTemporaryDirectory() + "pgpass.\(name)", database: pg.database,
            parameters: merged, commandLineParameters: commandLine,
            hbaLines: pg.pgHBA ?? c.bootstrap.pgHBA ?? [], hbaReplacesDefaults: pg.pgHBA != nil,
            initdbArguments: c.bootstrap.initdb.map(\.argument), bootstrapRoles: roles,
            usePgRewind: pg.usePgRewind ?? dyn.postgresql.usePgRewind ?? false,
            useSlots: dyn.postgresql.useSlots ?? true,
            basebackupArguments: basebackupArguments(pg.basebackup),
            replicaMethods: ReplicaMethod.configured(pg),
            startTimeout: .seconds(pg.pgCtlTimeout ?? 60),
            removeDataDirectoryOnRewindFailure: pg.removeDataDirectoryOnRewindFailure)
    }

    /// `postgresql.basebackup` as pg_basebackup arguments: a list of flags and one-key
    /// mappings, or a mapping (`{max-rate: 100M}` → `--max-rate=100M`).
    static func basebackupArguments(_ node: ConfigNode?) -> [String] {
        guard let node else { return [] }
        func argument(_ key: String, _ value: String?) -> String { value.map { "--\(key)=\($0)" } ?? "--\(key)" }
        switch node.value {
        case let .sequence(items):
            return items.flatMap { item -> [String] in
                if let text = item.text { return [argument(text, nil)] }
                return (item.entries ?? []).map { argument($0.key, $0.value.text) }
            }
        case let .mapping(entries):
            return entries.map { argument($0.key, $0.value.text) }
        default:
            return []
        }
    }

    /// The socket file or TCP address the agent's own connections go to.
    var localHost: String {
        if let socketDirectory { return socketDirectory }
        let host = listenHosts.first ?? "127.0.0.1"
        return ["0.0.0.0", "*", "::", ""].contains(host) ? "127.0.0.1" : host
    }
}
