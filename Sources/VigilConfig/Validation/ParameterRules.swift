/// PostgreSQL parameters that PostgreSQL 18 rejects, that a managed cluster overrides, or
/// that are ignored where they are written.
enum ParameterRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let c = input.configuration
        return check(c.bootstrap.dcs.postgresql.parameters, at: "bootstrap.dcs.postgresql.parameters", dynamic: true)
            + check(c.postgresql.parameters, at: "postgresql.parameters", dynamic: false)
    }

    static func check(_ parameters: [Parameter], at base: String, dynamic: Bool) -> [Diagnostic] {
        var findings: [Diagnostic] = []
        func add(_ severity: Diagnostic.Severity, _ code: String, _ p: Parameter, _ message: String, _ fix: String) {
            findings.append(Diagnostic(severity, code: code, path: "\(base).\(p.name)", location: p.location,
                                       message: message, fix: fix))
        }
        for p in parameters {
            if p.name == "wal_keep_segments" {
                let megabytes = (Int(p.value) ?? 8) * 16
                if parameters["wal_keep_size"] == nil {
                    add(.warning, "wal-keep-segments", p,
                        "wal_keep_segments does not exist since PostgreSQL 13, and PostgreSQL 18 refuses to start with it. Vigil, like Patroni, converts it to wal_keep_size = \(megabytes)MB (\(p.value) segments of 16 MB).",
                        "write wal_keep_size: \(megabytes)MB instead.")
                } else {
                    add(.warning, "wal-keep-segments", p,
                        "wal_keep_segments does not exist since PostgreSQL 13; wal_keep_size is set too and is used.",
                        "remove wal_keep_segments.")
                }
            }
            if let derivedFrom = ManagedParameters.derived[p.name] {
                add(.warning, "derived-parameter", p, "\(p.name) is set from \(derivedFrom); this value is ignored.",
                    "remove it and set \(derivedFrom) instead.")
            }
            if !dynamic, ManagedParameters.commandLineNames.contains(p.name) {
                add(.warning, "cluster-wide-parameter", p,
                    "\(p.name) must be the same on every member, so it is taken only from the cluster-wide configuration; this local value is ignored.",
                    "set it under bootstrap.dcs.postgresql.parameters (or later with vigilctl edit-config).")
                continue
            }
            if let entry = ManagedParameters.commandLine.first(where: { $0.name == p.name }), let minimum = entry.minimum,
               let value = Int(p.value), value < minimum {
                add(.warning, "parameter-below-minimum", p,
                    "\(p.name) \(value) is below the minimum of \(minimum) for a managed cluster; the default \(entry.fallback) is used instead.",
                    "set \(p.name): \(entry.fallback) (or at least \(minimum)).")
            }
            if p.name == "hot_standby", p.value != "on" {
                add(.warning, "hot-standby-off", p, "hot_standby must be on for replicas to answer queries and health checks; on is used.",
                    "remove it or set hot_standby: \"on\".")
            }
            if p.name == "wal_level", p.value == "minimal" {
                add(.error, "wal-level-minimal", p, "wal_level minimal writes too little WAL for streaming replication.",
                    "set wal_level: replica (or logical).")
            }
        }
        return findings
    }
}
