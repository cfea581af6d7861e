/// The keys without which a node cannot run (those Patroni's validator requires).
enum RequiredKeysRule {
    static let required: [(path: [String], why: String)] = [
        (["scope"], "the cluster's name; every member of one cluster uses the same scope"),
        (["name"], "this member's name, unique in the cluster"),
        (["restapi", "listen"], "the address the REST API listens on (HAProxy's health checks ask it)"),
        (["restapi", "connect_address"], "the address other members and HAProxy use to reach this REST API"),
        (["postgresql", "listen"], "the address PostgreSQL listens on"),
        (["postgresql", "connect_address"], "the address replicas and clients use to reach this PostgreSQL"),
        (["postgresql", "data_dir"], "PostgreSQL's data directory"),
        (["postgresql", "authentication", "superuser", "username"],
         "the superuser Vigil manages PostgreSQL as"),
        (["postgresql", "authentication", "replication", "username"],
         "the role replicas stream with (created with REPLICATION at bootstrap)"),
    ]

    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let tree = input.configuration.tree
        let missing = required.filter { item in
            var node: ConfigNode? = tree
            for key in item.path { node = node?[key] }
            return node == nil || node!.isNull
        }
        guard !missing.isEmpty else { return [] }
        let elision = elidedPart(in: input.files)
        return missing.map { item in
            var message = "required key is missing: \(item.why)."
            if let elision {
                message += " The file seems cut short: line \(elision.line) says '\(elision.text)'."
            }
            return Diagnostic(.error, code: "missing-key", path: item.path.joined(separator: "."),
                              location: input.location(ofParent: Array(item.path.dropLast())),
                              message: message, fix: "add \(item.path.joined(separator: ".")).")
        }
    }

    /// A comment such as `# ... the rest as on the other node`: a sign that part of the file
    /// was meant to be copied from elsewhere and never was.
    static func elidedPart(in files: [ConfigFile]) -> (file: String, line: Int, text: String)? {
        for file in files {
            for (index, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("#"), trimmed.contains("...") || trimmed.contains("…") {
                    return (file.path, index + 1, trimmed)
                }
            }
        }
        return nil
    }
}

import Foundation
