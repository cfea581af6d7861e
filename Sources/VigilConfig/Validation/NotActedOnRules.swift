/// Keys Patroni acts on that this version of Vigil reads but does not act on yet. Each one is
/// a warning in `check-config` and in the agent's log at start, so a deployment that relies
/// on one (a backup tool's permanent slot) hears of it before a failover, not
/// after.
enum NotActedOnRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let configuration = input.configuration
        let dcs = configuration.bootstrap.dcs
        var findings: [Diagnostic] = []
        func warn(_ path: [String], _ what: String, fix: String) {
            findings.append(Diagnostic(
                .warning, code: "not-acted-on", path: path.joined(separator: "."),
                location: input.keyLocation(path) ?? input.location(ofParent: path),
                message: "\(what) Vigil reads this key but does not act on it yet.", fix: fix))
        }
        let methods = configuration.postgresql.createReplicaMethods.filter { $0 != "basebackup" }
        if !methods.isEmpty {
            warn(["postgresql", "create_replica_methods"], "replicas are cloned with pg_basebackup only; \(methods.joined(separator: ", ")) will not be tried.",
                 fix: "list only basebackup, or make sure pg_basebackup can clone the primary.")
        }
        for (key, present) in [("slots", dcs.slots != nil), ("ignore_slots", dcs.ignoreSlots != nil),
                               ("member_slots_ttl", dcs.memberSlotsTTL != nil)] where present {
            warn(["bootstrap", "dcs", key], "replication slots are kept for the cluster's members only; \(key) is not applied.",
                 fix: "create and watch such slots yourself until Vigil manages them.")
        }
        if dcs.failsafeMode == true {
            warn(["bootstrap", "dcs", "failsafe_mode"], "with etcd unreachable, the primary stops accepting writes after ttl, as without failsafe_mode.",
                 fix: "keep etcd highly available (3 members), or remove failsafe_mode.")
        }
        return findings
    }
}
