import Foundation
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// The files Vigil writes into and beside a data directory. PostgreSQL's own
/// `postgresql.conf` is left to its owner except for one include line at its end; Vigil's
/// settings live in `postgresql.vigil.conf`, rewritten whole whenever they change.
enum ManagedFiles {
    static let managedConfName = "postgresql.vigil.conf"
    static let includeLine = "include_if_exists = '\(managedConfName)'\t# Vigil's settings; edits there are overwritten"

    /// Where to stream from, for a replica.
    struct Upstream: Equatable {
        var host: String
        var port: Int
        var user: String
        var passfile: String
        var applicationName: String
        var slot: String?
    }

    /// A GUC value in postgresql.conf syntax: always quoted, quotes and backslashes escaped.
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A libpq connection-string value: quoted when it needs to be.
    static func conninfoValue(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { " '\\".contains($0) }) else { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    static func primaryConninfo(_ upstream: Upstream) -> String {
        [("host", upstream.host), ("port", String(upstream.port)), ("user", upstream.user),
         ("passfile", upstream.passfile), ("application_name", upstream.applicationName),
         ("sslmode", "prefer"), ("gssencmode", "prefer"), ("channel_binding", "prefer")]
            .map { "\($0.0)=\(conninfoValue($0.1))" }.joined(separator: " ")
    }

    /// Marks Vigil's own synchronous_standby_names, so an agent that restarts on a running
    /// primary keeps it (a primary must not start acknowledging commits nobody confirmed).
    static let syncNamesMarker = "# synchronous_standby_names: managed by Vigil (synchronous_mode)"

    static func managedConf(parameters: [(name: String, value: String)], upstream: Upstream?,
                            syncNames: SyncNamesSetting = .configured) -> String {
        var lines = ["# Written by Vigil. Do not edit: it is rewritten from the cluster configuration.",
                     "# Change settings with 'vigilctl edit-config' (cluster-wide) or in the node's config file."]
        var parameters = parameters
        if case .managed = syncNames { parameters.removeAll { $0.name == "synchronous_standby_names" } }
        for (name, value) in parameters.sorted(by: { $0.name < $1.name }) {
            lines.append("\(name) = \(quote(value))")
        }
        if case let .managed(value) = syncNames {
            lines.append("")
            lines.append(syncNamesMarker)
            if let value { lines.append("synchronous_standby_names = \(quote(value))") }
        }
        if let upstream {
            lines.append("")
            lines.append("# Replica of \(upstream.host):\(upstream.port)")
            lines.append("primary_conninfo = \(quote(primaryConninfo(upstream)))")
            if let slot = upstream.slot { lines.append("primary_slot_name = \(quote(slot))") }
            lines.append("recovery_target_timeline = 'latest'")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The synchronous_standby_names a managed file written by `managedConf` carries.
    static func syncNames(inManagedConf text: String) -> SyncNamesSetting {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let marker = lines.firstIndex(of: syncNamesMarker) else { return .configured }
        let prefix = "synchronous_standby_names = "
        guard marker + 1 < lines.count, lines[marker + 1].hasPrefix(prefix) else { return .managed(nil) }
        var value = String(lines[marker + 1].dropFirst(prefix.count))
        guard value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") else { return .managed(nil) }
        value = String(value.dropFirst().dropLast())
        return .managed(value.replacingOccurrences(of: "''", with: "'").replacingOccurrences(of: "\\\\", with: "\\"))
    }

    /// Vigil's own access comes first, so the agent can always reach its PostgreSQL over the
    /// local socket with the superuser's password; then the configured lines.
    static func hba(configured: [String], defaults: String?, superuser: String, hasPassword: Bool) -> String {
        let method = hasPassword ? "scram-sha-256" : "trust"
        var lines = ["# Written by Vigil from postgresql.pg_hba / bootstrap.pg_hba.",
                     "local\tall\t\(hbaName(superuser))\t\(method)",
                     "local\treplication\tall\tscram-sha-256"]
        lines.append(contentsOf: configured)
        if let defaults {
            lines.append("")
            lines.append("# initdb's defaults")
            lines.append(contentsOf: defaults.split(separator: "\n").map(String.init)
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func hbaName(_ name: String) -> String {
        name.contains(where: { !$0.isLetter && !$0.isNumber && $0 != "_" }) || name != name.lowercased()
            ? "\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"" : name
    }

    /// `.pgpass` lines (`host:port:db:user:password`, `:` and `\` escaped); `*` matches any.
    static func pgpass(_ entries: [RoleCredentials]) -> String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:") }
        return entries.compactMap { role in
            role.password.map { "*:*:*:\(escape(role.username)):\(escape($0))" }
        }.joined(separator: "\n") + "\n"
    }

    /// Writes a file atomically (temp + rename) with `mode`, owned by `owner`.
    static func write(_ text: String, to path: String, mode: Int, owner: ProcessOwner?) throws(InstanceError) {
        let temporary = path + ".vigil-tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: mode]) else {
            throw InstanceError(.permission, "cannot write \(path): permission denied or no such directory")
        }
        do throws(InstanceError) {
            try InstanceError.lifting { () throws(SystemError) in try owner?.own(temporary) }
            if rename(temporary, path) != 0 {
                throw InstanceError(.permission, "cannot replace \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
