/// Keys Patroni acts on that this version of Vigil reads but does not act on yet. Each one is
/// a warning in `check-config` and in the agent's log at start, so a deployment that relies
/// on one (a change data capture's logical slot) hears of it before a failover, not after.
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
        let pg = configuration.postgresql
        for method in pg.createReplicaMethods where method != "basebackup" {
            let noLeader = pg.replicaMethodSections[method]?.entries?.contains { $0.key == "no_leader" } ?? false
            if noLeader {
                warn(["postgresql", method, "no_leader"], "a replica is made only while a member runs to copy from; \(method) is not tried without one.",
                     fix: "start this node once another member runs, or remove no_leader.")
            }
        }
        let logical = (dcs.slots ?? []).filter { $0.kind != .physical }.map(\.name)
        if !logical.isEmpty {
            warn(["bootstrap", "dcs", "slots"], "logical slots are kept where they exist, but neither created nor copied to replicas (\(logical.joined(separator: ", "))).",
                 fix: "create them on the primary yourself; after a failover, create them again on the new primary.")
        }
        if dcs.failsafeMode == true {
            warn(["bootstrap", "dcs", "failsafe_mode"], "with etcd unreachable, the primary stops accepting writes after ttl, as without failsafe_mode.",
                 fix: "keep etcd highly available (3 members), or remove failsafe_mode.")
        }
        return findings
    }
}
