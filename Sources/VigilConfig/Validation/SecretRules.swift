/// Plain-text passwords in a file that every user of the host can read.
enum SecretRules {
    static let secretKeys: Set<String> = ["password", "keyfile_password", "sslpassword", "cert_password"]

    static func check(_ input: ValidationInput) -> [Diagnostic] {
        input.files.compactMap { file in
            guard let mode = file.permissions, mode & 0o004 != 0 else { return nil }
            let secrets = passwords(in: input.configuration.tree, file: file.path)
            guard let first = secrets.first else { return nil }
            let paths = secrets.map(\.path)
            let listed = paths.prefix(4).joined(separator: ", ") + (paths.count > 4 ? ", …" : "")
            return Diagnostic(
                .warning, code: "world-readable-secrets", path: first.path, location: first.location,
                message: "\(file.path) is readable by every user of this host (mode \(String(mode & 0o777, radix: 8))) and holds \(paths.count) plain-text password\(paths.count == 1 ? "" : "s"): \(listed).",
                fix: "chmod 600 \(file.path) and give it to the user that runs vigil, or pass the passwords in PATRONI_*_PASSWORD environment variables.")
        }
    }

    /// Secret-valued keys whose value was written in `file` (not overridden from the environment).
    static func passwords(in tree: ConfigNode, file: String) -> [(path: String, location: SourceLocation?)] {
        var found: [(String, SourceLocation?)] = []
        func walk(_ node: ConfigNode, _ path: String) {
            for entry in node.entries ?? [] {
                let childPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                if secretKeys.contains(entry.key), entry.value.text?.isEmpty == false,
                   entry.value.location?.file == file {
                    found.append((childPath, entry.keyLocation))
                }
                walk(entry.value, childPath)
            }
        }
        walk(tree, "")
        return found
    }
}
