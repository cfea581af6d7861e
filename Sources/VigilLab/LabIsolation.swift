import Foundation

/// Cutting one node of the lab off the network, for the isolate-primary drill.
///
/// On loopback every connection leaves from 127.0.0.1 whatever node makes it, so addresses
/// alone cannot tell one node's traffic from another's. Instead each node's agent runs in a
/// cgroup (v2) of its own, which its PostgreSQL and everything else it starts inherit, and
/// iptables drops what those cgroups send. Dropped, not rejected: connections hang as they do
/// behind a failed switch, which is the harder case for an agent (no error, only time passing).
struct LabIsolation {
    let layout: LabLayout

    /// The lab's own cgroup, under the v2 root; each node's is a child named for the node.
    var group: String { "vigil-lab-\(layout.subnet)" }
    /// The iptables chain that holds the lab's drop rules, jumped to from OUTPUT while a node
    /// is cut off.
    var chain: String { "vigil-\(layout.subnet)" }

    /// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup on a unified system,
    /// /sys/fs/cgroup/unified beside v1 controllers), nil without one.
    static func cgroupRoot() -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    /// The node's cgroup relative to the v2 root, as iptables' `--path` takes it.
    func cgroup(_ node: LabLayout.Node) -> String { "\(group)/\(node.name)" }

    /// Creates the node's cgroup and returns its `cgroup.procs`, which the agent's shell joins
    /// before it execs the agent. Nil where there is no cgroup v2 or no right to make one (not
    /// root): the lab runs as before, only isolate-primary is unavailable.
    func prepareCgroup(_ node: LabLayout.Node) -> String? {
        guard let root = Self.cgroupRoot() else { return nil }
        let directory = "\(root)/\(cgroup(node))"
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil,
              access(directory + "/cgroup.procs", W_OK) == 0 else { return nil }
        return directory + "/cgroup.procs"
    }

    /// Whether process `pid` runs in the node's cgroup (an agent started before the lab knew
    /// cgroups does not).
    func runsInCgroup(_ pid: Int32, node: LabLayout.Node) -> Bool {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").contains { $0 == "0::/\(cgroup(node))" }
    }

    /// The drop rules that cut `node` off: from etcd (its agent's requests), from every other
    /// node's agent and from replication (REST both ways, PostgreSQL both ways). HAProxy, the
    /// drills' clients and etcd itself run outside the nodes' cgroups: a client "on its own side"
    /// still reaches the node, as do HAProxy's health checks.
    func rules(isolating node: LabLayout.Node) -> [[String]] {
        var rules = [["-p", "tcp", "--dport", "\(layout.etcdClientPort)", "-m", "cgroup", "--path", cgroup(node)]]
        for other in layout.nodes where other.name != node.name {
            for (from, to) in [(node, other), (other, node)] {
                for port in [to.restPort, to.postgresPort] {
                    rules.append(["-p", "tcp", "-d", to.host, "--dport", "\(port)", "-m", "cgroup", "--path", cgroup(from)])
                }
            }
        }
        return rules.map { $0 + ["-j", "DROP"] }
    }

    static var iptables: String? { Shell.which("iptables") }
    static var noIptables: LabError { LabError("isolate-primary needs iptables (apt install iptables; make lab installs it)") }

    /// What cutting a node off needs, or why it cannot be done here: iptables, cgroup v2, and
    /// every agent in its node's cgroup (`agents`: each node's agent pids).
    func requireReady(agents: [(node: LabLayout.Node, pids: [Int32])]) throws {
        guard Self.iptables != nil else { throw Self.noIptables }
        guard Self.cgroupRoot() != nil else {
            throw LabError("isolate-primary needs cgroup v2 (no cgroup2 file system is mounted): it tells the nodes' traffic apart by cgroup")
        }
        for (node, pids) in agents where !pids.contains(where: { runsInCgroup($0, node: node) }) {
            throw LabError("the agent for \(node.name) does not run in its cgroup \(cgroup(node)) (the lab was started by an older "
                           + "vigilctl, or not as root); restart the lab: vigilctl lab down, then vigilctl lab up")
        }
    }

    /// Cuts `node` off. Anything left from an interrupted drill is removed first.
    func isolate(_ node: LabLayout.Node) async throws {
        guard let iptables = Self.iptables else { throw Self.noIptables }
        await heal()
        try await run(iptables, ["-N", chain])
        for rule in rules(isolating: node) { try await run(iptables, ["-A", chain] + rule) }
        try await run(iptables, ["-I", "OUTPUT", "-j", chain])
    }

    /// Lets every packet through again: established connections resume where they hung. Does
    /// nothing where there is no iptables (nothing can have been cut then).
    func heal() async {
        guard let iptables = Self.iptables else { return }
        while let removed = try? await Shell.run(iptables, ["-D", "OUTPUT", "-j", chain]), removed.succeeded {}
        _ = try? await Shell.run(iptables, ["-F", chain])
        _ = try? await Shell.run(iptables, ["-X", chain])
    }

    /// Removes the nodes' cgroups once their processes are gone (rmdir refuses a busy one).
    func removeCgroups() {
        guard let root = Self.cgroupRoot() else { return }
        for node in layout.nodes { rmdir("\(root)/\(cgroup(node))") }
        rmdir("\(root)/\(group)")
    }

    private func run(_ iptables: String, _ arguments: [String]) async throws {
        let result = try await Shell.run(iptables, arguments)
        guard result.succeeded else {
            throw LabError("iptables \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
    }
}
