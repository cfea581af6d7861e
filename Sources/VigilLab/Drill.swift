import AsyncHTTPClient
import Foundation
import NIOCore
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// The faults a drill injects into the lab.
public enum DrillKind: String, Sendable, CaseIterable {
    /// kill -9 of the primary's agent and PostgreSQL: a power cut.
    case killPrimary = "kill-primary"
    /// kill -9 of the primary's agent alone, started again after 3 × ttl: its PostgreSQL must
    /// stop taking writes before a replica is promoted (the fence's case).
    case agentCrash = "agent-crash"
    /// SIGTERM to the primary's agent, as `systemctl stop` (the guide's own failover test).
    case stopPrimary = "stop-primary"
    /// kill -9 of the primary's PostgreSQL alone; its agent lives on.
    case crashPostgres = "crash-postgres"
    /// A planned switchover through the REST API.
    case switchover
    /// SIGSTOP of the primary's agent until its lease has run out, then SIGCONT: a hung agent
    /// that wakes up believing it still leads.
    case freezePrimary = "freeze-primary"
    /// etcd stopped for longer than `ttl`, then started again.
    case etcdDown = "etcd-down"
    /// SIGSTOP of the primary's PostgreSQL, the postmaster and every process it started: a
    /// server that runs but answers nothing. Its agent must fence it (stop, then kill) before
    /// its lease ends; the healthiest node then leads (it may be the same node, restarted).
    case hangPostgres = "hang-postgres"
    /// The primary's node cut off from etcd, from the other nodes' agents and from replication
    /// (packets dropped: connections hang, nothing is refused) for 3 × ttl, while HAProxy and a
    /// client on its own side still reach it. Its agent cannot renew the lease; its PostgreSQL
    /// must stop acknowledging writes before another node is promoted.
    case isolatePrimary = "isolate-primary"

    /// Whether the cluster's configuration promises that no acknowledged write is lost: with
    /// asynchronous replication only a primary that hands its WAL over before it steps down
    /// (or comes back itself) keeps that promise. A node lost mid-stream may take its last
    /// writes with it; the drill still counts them.
    public var promisesNoLoss: Bool {
        switch self {
        case .stopPrimary, .switchover, .crashPostgres: true
        // Its walsender froze with it: writes it acknowledged may never have left it.
        // An isolated primary's last writes never left it.
        case .killPrimary, .agentCrash, .freezePrimary, .etcdDown, .hangPostgres, .isolatePrimary: false
        }
    }

    /// How long the fault lasts, for a fault undone at a fixed time (etcd down, a crashed agent
    /// left down): it is undone before the drill waits for writes to resume. Nil otherwise.
    func outage(ttl: Int) -> Duration? {
        switch self {
        case .etcdDown: .seconds(ttl + 5)
        case .agentCrash, .isolatePrimary: .seconds(3 * ttl)
        case .killPrimary, .stopPrimary, .crashPostgres, .switchover, .freezePrimary, .hangPostgres: nil
        }
    }

    /// Whether another node must become the primary.
    var movesPrimary: Bool {
        switch self {
        case .killPrimary, .agentCrash, .stopPrimary, .switchover, .freezePrimary, .isolatePrimary: true
        case .crashPostgres, .etcdDown, .hangPostgres: false
        }
    }

    static var summary: String {
        """
        kill-primary: kill -9 of the primary's agent and PostgreSQL. agent-crash: kill -9 of its agent only, started again \
        after 3 × ttl. stop-primary: SIGTERM to its agent (systemctl stop). \
        crash-postgres: kill -9 of its PostgreSQL only. switchover: POST /switchover. freeze-primary: SIGSTOP of its agent \
        past the lease, then SIGCONT. etcd-down: etcd stopped for longer than ttl, then started. hang-postgres: SIGSTOP \
        of its PostgreSQL (every process), which its agent must fence. isolate-primary: its node cut off from etcd, the \
        other agents and replication (packets dropped) for 3 × ttl; HAProxy and direct clients still reach it.
        """
    }
}

extension Lab {
    /// Runs one drill against the running lab: a write probe through HAProxy and one straight to
    /// each node, the fault, the wait for writes to succeed again and for every node to be back
    /// in the cluster, then the count of acknowledged writes missing from the primary (by path)
    /// and whether two nodes acknowledged writes at once. Refuses to start on a cluster that is
    /// not healthy (a drill on a broken cluster measures nothing).
    public func drill(_ kind: DrillKind) async throws -> DrillReport {
        let user = try ProcessOwner.unprivileged()
        let leader = try await requireHealthy()
        let leaderName = leader.name
        let probe = WriteProbe(LabPostgres(host: layout.haproxyHost, port: layout.writePort, password: LabFiles.superuserPassword))
        do {
            try await probe.prepare()
        } catch {
            throw LabError("cannot write through HAProxy at \(layout.haproxyHost):\(layout.writePort): \(PostgresErrorText.describe(error))")
        }
        // Clients that bypass HAProxy (a job, a replica's consumer, a misconfigured app): one per
        // node, each with its own range of ids. Only a primary acknowledges their writes.
        let direct = layout.nodes.enumerated().map { index, node in
            WriteProbe(LabPostgres(host: node.host, port: node.postgresPort, password: LabFiles.superuserPassword),
                       path: node.name, firstID: Int64(index + 1) * 1_000_000_000, direct: true)
        }
        let started = ContinuousClock.now
        let writer = Task { await probe.run() }
        let directWriters = direct.map { probe in Task { await probe.run() } }
        defer {
            writer.cancel()
            for task in directWriters { task.cancel() }
        }
        try await Task.sleep(for: .seconds(2))

        var faultAt = ContinuousClock.now
        var hungPostmaster: pid_t?
        let timings = profile.timings
        // Found before etcd is stopped, so a missing binary cannot leave the store down.
        let etcdBinary = Shell.which("etcd")
        if kind == .etcdDown, etcdBinary == nil { throw LabError("etcd is not installed (apt install etcd-server)") }
        let isolation = LabIsolation(layout: layout)
        if kind == .isolatePrimary {
            var agents: [(node: LabLayout.Node, pids: [Int32])] = []
            for node in layout.nodes { agents.append((node, await pgrep(agentPattern(node)))) }
            try isolation.requireReady(agents: agents)
        }
        switch kind {
        case .killPrimary:
            say("drill \(kind.rawValue): kill -9 of \(leaderName)'s agent and PostgreSQL")
            let postmaster = postmasterPID(leader)
            _ = try await Shell.run("/usr/bin/pkill", ["-KILL", "-f", agentPattern(leader)])
            if let postmaster { kill(postmaster, SIGKILL) }
        case .agentCrash:
            say("drill \(kind.rawValue): kill -9 of \(leaderName)'s agent only (its PostgreSQL is left running); started again in \(3 * timings.ttl) s")
            _ = try await Shell.run("/usr/bin/pkill", ["-KILL", "-f", agentPattern(leader)])
        case .stopPrimary:
            say("drill \(kind.rawValue): SIGTERM to \(leaderName)'s agent (systemctl stop)")
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", agentPattern(leader)])
        case .crashPostgres:
            guard let postmaster = postmasterPID(leader) else { throw LabError("\(leaderName) has no postmaster.pid") }
            say("drill \(kind.rawValue): kill -9 of \(leaderName)'s postmaster (pid \(postmaster)); its agent keeps running")
            kill(postmaster, SIGKILL)
        case .switchover:
            guard let candidate = layout.nodes.first(where: { $0.name != leaderName }) else { throw LabError("no other member") }
            say("drill \(kind.rawValue): POST /switchover from \(leaderName) to \(candidate.name)")
            var request = HTTPClientRequest(url: "http://\(leader.host):\(leader.restPort)/switchover")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"leader":"\#(leaderName)","candidate":"\#(candidate.name)"}"#))
            let response = try await HTTPClients.client(.command).execute(request, timeout: .seconds(60))
            let body = String(buffer: try await response.body.collect(upTo: 4096))
            say("  the API answered \(response.status.code): \(body)")
            // A refusal (412, 503) is the drill's answer: no switchover is coming to wait for.
            guard response.status == .ok else {
                throw LabError("the switchover was refused (HTTP \(response.status.code): \(body)); nothing was changed")
            }
        case .freezePrimary:
            say("drill \(kind.rawValue): SIGSTOP of \(leaderName)'s agent for longer than its lease (ttl \(timings.ttl) s)")
            _ = try await Shell.run("/usr/bin/pkill", ["-STOP", "-f", agentPattern(leader)])
        case .etcdDown:
            say("drill \(kind.rawValue): etcd stopped for \(Int(kind.outage(ttl: timings.ttl)?.inSeconds ?? 0)) s (ttl \(timings.ttl) s)")
            try await stopEtcd()
        case .hangPostgres:
            guard let postmaster = postmasterPID(leader) else { throw LabError("\(leaderName) has no postmaster.pid") }
            say("drill \(kind.rawValue): SIGSTOP of \(leaderName)'s PostgreSQL (postmaster \(postmaster) and its processes)")
            // The postmaster first, so it starts nothing the second signal would miss.
            guard kill(postmaster, SIGSTOP) == 0 else {
                throw LabError("cannot stop \(leaderName)'s postmaster (pid \(postmaster)): \(String(cString: strerror(errno)))")
            }
            hungPostmaster = postmaster
            // pkill exits 1 when nothing matched (no children): only worse is a failure.
            let children = try await Shell.run("/usr/bin/pkill", ["-STOP", "-P", "\(postmaster)"])
            guard (children.exitCode ?? 2) <= 1 else {
                kill(postmaster, SIGCONT)
                throw LabError("cannot stop the processes of \(leaderName)'s postmaster: \(children.output)")
            }
        case .isolatePrimary:
            say("drill \(kind.rawValue): \(leaderName) cut off from etcd, the other agents and replication for \(3 * timings.ttl) s "
                + "(packets dropped); HAProxy and direct clients still reach it")
            try await isolation.isolate(leader)
        }
        if kind != .switchover {
            // A write already in flight may still be acknowledged as the signal lands: the fault
            // counts from when it has surely taken effect.
            try await Task.sleep(for: .milliseconds(100))
            faultAt = ContinuousClock.now
        }
        let fault = faultAt

        // Whatever the fault, the drill must leave the lab running: a frozen agent is woken and a
        // stopped etcd started again even when the wait below fails.
        var restoredAt: ContinuousClock.Instant?
        func restore() async throws {
            guard restoredAt == nil else { return }
            if let outage = kind.outage(ttl: timings.ttl) {
                let left = outage - (ContinuousClock.now - fault)
                if left > .zero { try await Task.sleep(for: left) }
            }
            switch kind {
            case .freezePrimary:
                say("  SIGCONT to \(leaderName)'s agent")
                _ = try await Shell.run("/usr/bin/pkill", ["-CONT", "-f", agentPattern(leader)])
            case .etcdDown:
                say("  starting etcd again")
                guard let etcdBinary else { throw LabError("etcd is not installed") }
                try await startEtcd(etcdBinary)
            case .killPrimary, .stopPrimary, .agentCrash:
                try await wait("the old agent to exit", seconds: 60) { !(await agentRunning(leader)) }
                try await startAgent(leader, user: user)
            case .isolatePrimary:
                say("  \(leaderName) reconnected")
                await isolation.heal()
            case .hangPostgres:
                // Whatever the agent did not kill is let go (it notices its postmaster is gone).
                if let postmaster = hungPostmaster {
                    _ = try await Shell.run("/usr/bin/pkill", ["-CONT", "-P", "\(postmaster)"])
                    kill(postmaster, SIGCONT)
                }
            case .crashPostgres, .switchover:
                break
            }
            restoredAt = ContinuousClock.now
        }

        var newLeader = leaderName
        var primaryAfter: Double?
        do {
            if kind.movesPrimary {
                newLeader = try await waitForLeader(other: leaderName)
                primaryAfter = (ContinuousClock.now - fault).inSeconds
            }
            // A fault of a fixed length is undone first: with etcd down the primary keeps writing
            // until it sees the store gone, so only a write after etcd is back shows the cluster
            // serving again; a crashed agent stays down for its 3 × ttl whatever happens meanwhile.
            if kind.outage(ttl: timings.ttl) != nil { try await restore() }
            let resumed = restoredAt ?? fault
            try await wait("writes to succeed again", seconds: 180) {
                probe.acknowledged.last.map { $0.at > resumed } ?? false
            }
            try await restore()
        } catch {
            try? await restore()
            throw error
        }
        let restored = restoredAt ?? fault
        let rejoinFrom = kind == .switchover || kind == .crashPostgres ? fault : restored
        // Member keys written before the fault may still say "streaming" (etcd restores them with
        // its leases): only keys every agent has written since count.
        let baseline = (try? await store().readCluster().revision) ?? 0
        // A cluster that does not come back whole is a result too (a node that took writes
        // beside the new primary may never rejoin): reported, and the drill fails.
        var rejoin: Double?
        do {
            try await wait("every node to be back (a running primary, the others streaming from it)", seconds: 180) {
                let (leader, problem) = health(try await store().readCluster(), writtenAfter: baseline)
                guard problem == nil, let leader else { return false }
                newLeader = leader.name
                return true
            }
            rejoin = (ContinuousClock.now - rejoinFrom).inSeconds
        } catch let error as LabError {
            say("  \(error)")
        }
        try await Task.sleep(for: .seconds(1))
        writer.cancel()
        for task in directWriters { task.cancel() }
        _ = await writer.value
        for task in directWriters { _ = await task.value }

        let acked = probe.acknowledged
        let present: Set<Int64>
        do {
            present = try await probe.presentIDs()
        } catch {
            throw LabError("cannot read the written ids back through HAProxy at \(layout.haproxyHost):\(layout.writePort): \(PostgresErrorText.describe(error))")
        }
        func path(_ name: String, _ acks: [WriteProbe.Ack]) -> DrillReport.Path {
            let lost = acks.filter { !present.contains($0.id) }
            return DrillReport.Path(name: name, acknowledged: acks.count, lost: lost.count,
                                    examples: lost.prefix(10).map {
                                        DrillReport.LostWrite(id: $0.id, acknowledgedAfterFault: ($0.at - fault).inSeconds, server: $0.server)
                                    })
        }
        var paths = [path("haproxy", acked)]
        for client in direct { paths.append(path("direct to \(client.path)", client.acknowledged)) }
        let everyAck = (acked + direct.flatMap(\.acknowledged)).sorted { $0.at < $1.at }
        let twoPrimaries = Self.overlap(everyAck, old: leader, new: layout.nodes.first { $0.name == newLeader }, after: fault)
        // The longest stretch without an acknowledged write, from the last one before the fault on
        // (a switchover's outage happens while its request is still running).
        let start = acked.lastIndex(where: { $0.at <= fault }) ?? 0
        var longest = Duration.zero
        var resumedAt: ContinuousClock.Instant?
        for i in acked.indices.dropFirst(start + 1) where acked[i].at - acked[i - 1].at > longest {
            longest = acked[i].at - acked[i - 1].at
            resumedAt = acked[i].at
        }
        // Where the same node serves again, the primary is back when the writes are.
        if primaryAfter == nil, let resumedAt { primaryAfter = max(0, (resumedAt - fault).inSeconds) }
        let report = DrillReport(kind: kind, agent: agent, profile: profile, sync: sync, oldLeader: leaderName, newLeader: newLeader,
                                 primaryAfter: primaryAfter, writeDowntime: longest.inSeconds, paths: paths,
                                 twoPrimaries: twoPrimaries, failedAttempts: probe.failedAttempts, rejoin: rejoin,
                                 timeline: DrillTimeline(acks: everyAck, start: started, fault: fault, restored: restoredAt,
                                                         nodes: layout.nodes.map { ($0.name, $0.host) },
                                                         failures: probe.failedAt,
                                                         primaryServing: primaryAfter.map { fault + .seconds($0) }))
        for line in report.table { say(line) }
        try saveReport(report)
        return report
    }

    /// Two primaries at once, in seconds: the old primary's last acknowledged write (on any
    /// path) less the new primary's first after the fault. At most 0 when the old one stopped
    /// acknowledging before the new one began; nil when the same node leads afterwards.
    static func overlap(_ acks: [WriteProbe.Ack], old: LabLayout.Node, new: LabLayout.Node?,
                        after fault: ContinuousClock.Instant) -> Double? {
        guard let new, new.name != old.name,
              let first = acks.first(where: { $0.server == new.host && $0.at > fault }) else { return nil }
        guard let last = acks.last(where: { $0.server == old.host }) else { return nil }
        return (last.at - first.at).inSeconds
    }

    /// The leader, when the cluster is fit for a drill; otherwise the reason it is not.
    func requireHealthy() async throws -> LabLayout.Node {
        guard let cluster = try await readClusterThroughElection() else {
            throw LabError("the lab is not up (no etcd at \(layout.etcdEndpoints.joined(separator: ", "))); start it with: vigilctl lab up")
        }
        for node in layout.nodes where !(await agentRunning(node)) {
            throw LabError("the agent for \(node.name) is not running; start the lab again with: vigilctl lab up")
        }
        let (leader, problem) = health(cluster)
        if let problem { throw LabError("\(problem); a drill needs a healthy cluster (see: vigilctl lab status)") }
        guard let leader else { throw LabError("the cluster has no leader") }
        guard await haproxyRunning() else {
            throw LabError("HAProxy is not running; start the lab again with: vigilctl lab up")
        }
        return leader
    }

    /// The cluster as the store holds it, or nil when no etcd member answers. A store that
    /// accepts connections but cannot answer yet (a member just lost, the others electing a
    /// raft leader) is given a few seconds instead of calling the lab down.
    func readClusterThroughElection() async throws -> ClusterState? {
        var cluster: ClusterState?
        let deadline = ContinuousClock.now + .seconds(15)
        repeat {
            guard layout.etcdMembers.contains(where: { SocketProbe.accepts(host: $0.host, port: layout.etcdClientPort) }) else { return nil }
            cluster = try? await store().readCluster()
            if cluster == nil { try await Task.sleep(for: .milliseconds(500)) }
        } while cluster == nil && ContinuousClock.now < deadline
        return cluster
    }

    /// The leader once one runs as primary (one other than `other`, when given).
    func waitForLeader(other: String? = nil) async throws -> String {
        var name = ""
        try await wait(other.map { "a leader other than \($0)" } ?? "a leader", seconds: 120) {
            guard let cluster = try? await store().readCluster(), let leader = cluster.leader?.name, leader != other,
                  cluster.member(named: leader)?.record.isPrimary == true else { return false }
            name = leader
            return true
        }
        return name
    }

    /// Stops every etcd member: the whole store is gone.
    func stopEtcd() async throws {
        for member in layout.etcdMembers {
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", layout.etcdPattern(member)])
        }
        try await wait("etcd to stop", seconds: 30) {
            for member in layout.etcdMembers where !(await pgrep(layout.etcdPattern(member))).isEmpty { return false }
            return true
        }
    }

    /// The pid in the node's postmaster.pid, if that process is this node's postmaster (a stale
    /// file's pid may belong to anything by now).
    func postmasterPID(_ node: LabLayout.Node) -> pid_t? {
        let data = layout.nodeDirectory(node) + "/data"
        guard let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8),
              let pid = pid_t(text.split(separator: "\n").first ?? ""),
              ProcessTable.commandLine(pid).contains(data) else { return nil }
        return pid
    }

    func saveReport(_ report: DrillReport) throws {
        let dir = layout.path("reports")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let stamp = Int(Date().timeIntervalSince1970)
        let base = "\(dir)/\(report.agent.rawValue)-\(report.kind.rawValue)-\(stamp)"
        do {
            try Data((report.json.compactText + "\n").utf8).write(to: URL(fileURLWithPath: base + ".json"))
            try Data(report.timeline.svg(title: report.title).utf8).write(to: URL(fileURLWithPath: base + ".svg"))
        } catch {
            throw LabError("cannot write the drill's report to \(dir): \(error.localizedDescription)")
        }
        say("  report: \(base).json, timeline: \(base).svg")
    }
}
