import Foundation

/// `PATRONI_*` environment variables, and the same names with `VIGIL_`, laid over the file
/// (Patroni's names so existing unit files and container specs keep working; `VIGIL_` wins
/// when both are set). Each variable maps to one YAML path; list and mapping values are
/// read as YAML flow, with or without their brackets, as Patroni reads them.
public enum EnvironmentOverrides {
    public static let prefixes = ["PATRONI_", "VIGIL_"]

    enum Shape { case scalar, list, mapping }

    /// Lays every recognised variable over `tree`. Unrecognised `PATRONI_*` names are ignored
    /// as Patroni ignores them (they include its own internal variables).
    public static func apply(to tree: ConfigNode, environment: [String: String]) -> ConfigNode {
        var tree = tree
        for prefix in prefixes {
            for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) {
                let suffix = String(name.dropFirst(prefix.count))
                guard let (path, shape) = target(of: suffix) else { continue }
                tree = tree.setting(path, to: node(value, shape: shape, variable: name))
            }
        }
        return tree
    }

    static func node(_ value: String, shape: Shape, variable: String) -> ConfigNode {
        let location = SourceLocation.environment(variable)
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let flow: String
        switch shape {
        case .scalar: return ConfigNode(.scalar(value, plain: true), location: location)
        case .list: flow = trimmed.hasPrefix("[") ? trimmed : "[\(trimmed)]"
        case .mapping: flow = trimmed.hasPrefix("{") ? trimmed : "{\(trimmed)}"
        }
        guard var parsed = try? YAMLDocument.parse(flow, file: "$\(variable)") else {
            return ConfigNode(.scalar(value, plain: false), location: location)
        }
        parsed.location = location
        return parsed
    }

    static let restapiKeys = ["LISTEN", "CONNECT_ADDRESS", "CERTFILE", "KEYFILE", "KEYFILE_PASSWORD", "CAFILE",
                              "CIPHERS", "VERIFY_CLIENT", "REQUEST_QUEUE_SIZE", "SERVER_TOKENS",
                              "ALLOWLIST_INCLUDE_MEMBERS"]
    static let ctlKeys = ["INSECURE", "CACERT", "CERTFILE", "KEYFILE", "KEYFILE_PASSWORD"]
    static let postgresqlKeys = ["LISTEN", "CONNECT_ADDRESS", "PROXY_ADDRESS", "CONFIG_DIR", "DATA_DIR", "PGPASS",
                                 "BIN_DIR"]
    static let binaries = ["PG_CTL", "INITDB", "PG_CONTROLDATA", "PG_BASEBACKUP", "POSTGRES", "PG_ISREADY", "PG_REWIND"]
    static let roles = ["SUPERUSER", "REPLICATION", "REWIND"]
    static let roleKeys = ["USERNAME", "PASSWORD", "SSLMODE", "SSLCERT", "SSLKEY", "SSLPASSWORD", "SSLROOTCERT",
                           "SSLCRL", "SSLCRLDIR", "SSLNEGOTIATION", "GSSENCMODE", "CHANNEL_BINDING"]
    static let logKeys = ["TYPE", "LEVEL", "TRACEBACK_LEVEL", "FORMAT", "DATEFORMAT", "MAX_QUEUE_SIZE", "DIR",
                          "MODE", "FILE_SIZE", "FILE_NUM", "DEDUPLICATE_HEARTBEAT_LOGS"]
    static let logMappings = ["STATIC_FIELDS", "LOGGERS"]
    // ETCD3 before ETCD, so PATRONI_ETCD3_HOSTS is not read as etcd's "3_HOSTS".
    static let stores = ["ETCD3", "ETCD", "CONSUL", "ZOOKEEPER", "EXHIBITOR", "KUBERNETES", "RAFT", "CITUS"]
    static let storeKeys = ["HOST", "PORT", "URL", "PROXY", "SRV", "SRV_SUFFIX", "PROTOCOL", "USE_PROXIES", "CACERT",
                            "CERT", "KEY", "CERT_PASSWORD", "USERNAME", "PASSWORD", "NAMESPACE", "CONTEXT",
                            "DATABASE", "GROUP", "DATA_DIR", "SELF_ADDR", "BIND_ADDR", "TOKEN", "DC",
                            "CHECKS", "REGISTER_SERVICE", "SERVICE_TAGS", "LABELS", "POD_IP", "PORTS", "USE_ENDPOINTS",
                            "LEADER_LABEL_VALUE", "FOLLOWER_LABEL_VALUE", "STANDBY_LEADER_LABEL_VALUE",
                            "TMP_ROLE_LABEL", "BYPASS_API_SERVICE", "INSECURE", "SCOPE_LABEL", "ROLE_LABEL"]
    static let storeLists = ["HOSTS", "PARTNER_ADDRS", "CHECKS", "SERVICE_TAGS", "PORTS"]
    static let storeMappings = ["LABELS"]

    /// The YAML path a variable name (without its prefix) sets, and how to read its value.
    static func target(of suffix: String) -> ([String], Shape)? {
        func lower(_ s: String) -> String { s.lowercased() }
        switch suffix {
        case "NAME", "NAMESPACE", "SCOPE", "THREAD_POOL_SIZE", "THREAD_STACK_SIZE": return ([lower(suffix)], .scalar)
        default: break
        }
        if let rest = suffix.dropPrefix("RESTAPI_") {
            if rest == "USERNAME" || rest == "PASSWORD" { return (["restapi", "authentication", lower(rest)], .scalar) }
            if rest == "ALLOWLIST" { return (["restapi", "allowlist"], .list) }
            if rest == "HTTP_EXTRA_HEADERS" || rest == "HTTPS_EXTRA_HEADERS" { return (["restapi", lower(rest)], .mapping) }
            if restapiKeys.contains(rest) { return (["restapi", lower(rest)], .scalar) }
            return nil
        }
        if let rest = suffix.dropPrefix("CTL_") {
            if rest == "USERNAME" || rest == "PASSWORD" { return (["ctl", "authentication", lower(rest)], .scalar) }
            return ctlKeys.contains(rest) ? (["ctl", lower(rest)], .scalar) : nil
        }
        if let rest = suffix.dropPrefix("POSTGRESQL_") {
            if postgresqlKeys.contains(rest) { return (["postgresql", lower(rest)], .scalar) }
            if let binary = rest.dropPrefix("BIN_"), binaries.contains(binary) {
                return (["postgresql", "bin_name", lower(binary)], .scalar)
            }
            return nil
        }
        for role in roles {
            if let rest = suffix.dropPrefix(role + "_"), roleKeys.contains(rest) {
                return (["postgresql", "authentication", lower(role), lower(rest)], .scalar)
            }
        }
        if let rest = suffix.dropPrefix("LOG_") {
            if logKeys.contains(rest) { return (["log", lower(rest)], .scalar) }
            if logMappings.contains(rest) { return (["log", lower(rest)], .mapping) }
            return nil
        }
        for store in stores {
            guard let rest = suffix.dropPrefix(store + "_") else { continue }
            if storeLists.contains(rest) { return ([lower(store), lower(rest)], .list) }
            if storeMappings.contains(rest) { return ([lower(store), lower(rest)], .mapping) }
            if storeKeys.contains(rest) { return ([lower(store), lower(rest)], .scalar) }
            return nil
        }
        return nil
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
