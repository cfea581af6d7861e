import Foundation
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

extension PostgresInstance {
    /// Creates a new cluster as the guide does, then starts it as a primary: initdb with the
    /// configured options, Vigil's pg_hba.conf and settings, the superuser's password, the
    /// replication role, `bootstrap.users`, and `databases` (name, owner). On any failure the
    /// new data directory is removed again. Returns the system identifier.
    public func bootstrap(databases: [(name: String, owner: String)] = []) async throws(InstanceError) -> String {
        try prepareEmptyDataDirectory()
        do throws(InstanceError) {
            try await initdb()
            try writeHBA(initdbDefaults: try? String(contentsOfFile: path("pg_hba.conf"), encoding: .utf8))
            try await start()
            try await quietSession()
            for role in settings.bootstrapRoles { try await createOrUpdate(role) }
            for database in databases { try await createDatabase(database.name, owner: database.owner) }
            guard let sysid = try await sql.rows("SELECT system_identifier::text FROM pg_control_system()").first?.first ?? nil else {
                throw InstanceError(.query, "the new cluster reports no system identifier")
            }
            return sysid
        } catch {
            try? await stop(.immediate, timeout: .seconds(10))
            removeDataDirectoryContents()
            state = .uninitialized
            throw error
        }
    }

    /// The data directory must be absent or empty: bootstrap never writes over data.
    func prepareEmptyDataDirectory() throws(InstanceError) {
        let fm = FileManager.default
        if fm.fileExists(atPath: dataPath) {
            let contents = (try? fm.contentsOfDirectory(atPath: dataPath)) ?? []
            guard contents.isEmpty else {
                throw InstanceError(.dataDirectory, "data directory \(dataPath) is not empty; refusing to create a new cluster over it")
            }
        } else {
            do {
                try fm.createDirectory(atPath: dataPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw InstanceError(.permission, "cannot create data directory \(dataPath): \(error.localizedDescription)")
            }
        }
        chmod(dataPath, 0o700)
        try give(dataPath)
    }

    func removeDataDirectoryContents() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dataPath)) ?? [] {
            try? FileManager.default.removeItem(atPath: path(name))
        }
    }

    private func initdb() async throws(InstanceError) {
        var arguments = ["-D", dataPath, "-U", settings.superuser.username]
        var passwordFile: String?
        if let password = settings.superuser.password {
            let file = NSTemporaryDirectory() + "vigil-initdb-\(UUID().uuidString).pw"
            try ManagedFiles.write(password + "\n", to: file, mode: 0o600, owner: effectiveOwner)
            passwordFile = file
            arguments += ["--pwfile=\(file)", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256"]
        }
        defer { if let passwordFile { try? FileManager.default.removeItem(atPath: passwordFile) } }
        arguments += settings.initdbArguments
        let run = try await runTool(settings.binaries.initdb, arguments, owner: owner,
                                        environment: ["LC_ALL": "C.UTF-8", "LC_MESSAGES": "C"],
                                        timeout: .seconds(300), logPath: toolLog("initdb"))
        guard run.succeeded else {
            throw InstanceError(.command, "initdb failed: \(run.output.split(separator: "\n").suffix(5).joined(separator: " "))")
        }
        state = .stopped
    }

    func writeHBA(initdbDefaults: String?) throws(InstanceError) {
        let text = ManagedFiles.hba(configured: settings.hbaLines,
                                    defaults: settings.hbaReplacesDefaults ? nil : initdbDefaults,
                                    superuser: settings.superuser.username,
                                    hasPassword: settings.superuser.password != nil)
        try ManagedFiles.write(text, to: path("pg_hba.conf"), mode: 0o600, owner: effectiveOwner)
    }

    /// Statements that carry passwords must never reach PostgreSQL's log, even when they fail.
    func quietSession() async throws(InstanceError) {
        // synchronous_commit local, as Patroni bootstraps: the node's own synchronous_standby_names
        // may name standbys that cannot exist before the cluster does, and the roles' commits
        // would wait for them forever.
        for statement in ["SET log_statement TO 'none'", "SET log_min_duration_statement TO -1",
                          "SET log_min_error_statement TO 'panic'", "SET synchronous_commit TO 'local'",
                          "SET statement_timeout TO 0"] {
            try await sql.execute(statement)
        }
    }

    static let roleOptions: Set<String> = [
        "login", "nologin", "createdb", "nocreatedb", "createrole", "nocreaterole", "replication", "noreplication",
        "superuser", "nosuperuser", "inherit", "noinherit", "bypassrls", "nobypassrls",
    ]

    /// Creates the role, or brings an existing one in line (options and password).
    func createOrUpdate(_ role: RoleSpec) async throws(InstanceError) {
        var clauses = ["LOGIN"]
        for option in role.options {
            let keyword = option.lowercased().trimmingCharacters(in: .whitespaces)
            guard Self.roleOptions.contains(keyword) else {
                throw InstanceError(.state, "bootstrap.users.\(role.credentials.username).options: '\(option)' is not a role option (use e.g. createdb, replication)")
            }
            clauses.append(keyword.uppercased())
        }
        if let password = role.credentials.password { clauses.append("PASSWORD \(SQLText.literal(password))") }
        let name = role.credentials.username
        let exists = try await !sql.rows("SELECT 1 FROM pg_roles WHERE rolname = \(SQLText.literal(name))").isEmpty
        try await sql.execute("\(exists ? "ALTER" : "CREATE") ROLE \(SQLText.identifier(name)) WITH \(clauses.joined(separator: " "))")
    }

    func createDatabase(_ name: String, owner: String) async throws(InstanceError) {
        let exists = try await !sql.rows("SELECT 1 FROM pg_database WHERE datname = \(SQLText.literal(name))").isEmpty
        if !exists {
            try await sql.execute("CREATE DATABASE \(SQLText.identifier(name)) OWNER \(SQLText.identifier(owner))")
        }
    }
}
