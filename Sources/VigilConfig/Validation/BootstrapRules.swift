/// The one-time bootstrap settings: what Vigil does with them that Patroni would not.
enum BootstrapRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let c = input.configuration
        var findings: [Diagnostic] = []
        if !c.hasBootstrapSection {
            findings.append(Diagnostic(
                .warning, code: "no-bootstrap", path: "bootstrap", location: input.mainFile.map { SourceLocation(file: $0) },
                message: "no bootstrap section: if this node is the one that initializes the cluster, it does so with default settings (ttl 30, loop_wait 10, retry_timeout 10, no pg_rewind, no extra users, no pg_hba lines).",
                fix: "copy the bootstrap: section of the other nodes into this file."))
        }
        if !c.bootstrap.users.isEmpty {
            let users = c.bootstrap.users.map { user in
                user.options.isEmpty ? user.name : "\(user.name) (\(user.options.joined(separator: ", ")))"
            }
            findings.append(Diagnostic(
                .info, code: "bootstrap-users", path: "bootstrap.users", location: input.keyLocation(["bootstrap", "users"]),
                message: "Patroni 4 ignores bootstrap.users; Vigil creates these roles when it initializes the cluster: \(users.joined(separator: ", "))."))
        }
        let hba = (c.bootstrap.pgHBA ?? []) + (c.postgresql.pgHBA ?? []) + (c.bootstrap.dcs.postgresql.pgHBA ?? [])
        if hba.contains(where: { $0.split(separator: " ").last == "md5" }) {
            let path = c.bootstrap.pgHBA != nil ? ["bootstrap", "pg_hba"] : c.postgresql.pgHBA != nil
                ? ["postgresql", "pg_hba"] : ["bootstrap", "dcs", "postgresql", "pg_hba"]
            findings.append(Diagnostic(
                .info, code: "pg-hba-md5", path: path.joined(separator: "."), location: input.keyLocation(path),
                message: "md5 authentication is deprecated in PostgreSQL 18; passwords are stored as SCRAM, so these lines already authenticate with scram-sha-256.",
                fix: "write scram-sha-256 instead of md5."))
        }
        return findings
    }
}
