import Foundation
import VigilCore
import VigilDCS
import VigilSystem

/// `vigilctl lab up|down|status`: the guide's cluster (etcd, two PostgreSQL 18 nodes under
/// vigil agents, HAProxy) on loopback, as detached processes whose state lives in one directory.
public struct Lab: Sendable {
    public var layout: LabLayout
    public var profile: LabProfile
    public var agent: LabAgent
    public var sync: LabSync
    /// Where Patroni is installed (PYTHONPATH), for `agent == .patroni`.
    public var patroniPath: String?
    let say: @Sendable (String) -> Void

    public init(directory: String, subnet: String = LabLayout.defaultSubnet, nodes: Int = 2, etcdMembers: Int = 1,
                profile: LabProfile = .guide, agent: LabAgent = .vigil, sync: LabSync = .off,
                patroniPath: String? = nil, say: @escaping @Sendable (String) -> Void) {
        self.sync = sync
        layout = LabLayout(directory: directory, subnet: subnet, nodes: nodes, etcdMembers: etcdMembers)
        self.profile = profile
        self.agent = agent
        self.patroniPath = patroniPath
        self.say = say
    }

    /// The command that runs the agent for `node`.
    func agentCommand(_ node: LabLayout.Node) throws -> [String] {
        switch agent {
        case .vigil:
            return [layout.binary, layout.config(node)]
        case .patroni:
            guard let patroniPath else { throw LabError("--agent patroni needs Patroni's install directory (.tools/patroni-path; make test installs it)") }
            return ["/usr/bin/env", "PYTHONPATH=\(patroniPath)", "PYTHONDONTWRITEBYTECODE=1", "/usr/bin/python3", "-m", "patroni",
                    layout.config(node)]
        }
    }

    /// What `pgrep -f` finds the agent of `node` by (nil: any node's).
    func agentPattern(_ node: LabLayout.Node?) -> String {
        switch agent {
        case .vigil: node.map { "^\(layout.binary) \(layout.config($0))" } ?? "^\(layout.binary) "
        case .patroni: node.map { "python3 -m patroni \(layout.config($0))" } ?? "python3 -m patroni \(layout.directory)/"
        }
    }

    /// Starts the agent of `node` in the background.
    func startAgent(_ node: LabLayout.Node, user: ProcessOwner?) async throws {
        say("starting the \(agent.rawValue) agent for \(node.name) on \(node.host) (PostgreSQL :\(node.postgresPort), REST :\(node.restPort))")
        try await Shell.daemon((user?.commandPrefix ?? []) + (try agentCommand(node)), log: layout.log(node.name),
                               cgroupProcs: LabIsolation(layout: layout).prepareCgroup(node))
    }

    // MARK: up

    public func up(pgBin: String, vigilBinary: String) async throws {
        let user = try ProcessOwner.unprivileged()
        guard let etcd = Shell.which("etcd") else { throw LabError("etcd is not installed (apt install etcd-server; `make lab` does it)") }
        guard let haproxy = Shell.which("haproxy") else { throw LabError("haproxy is not installed (apt install haproxy; `make lab` does it)") }
        guard FileManager.default.isExecutableFile(atPath: pgBin + "/postgres") else {
            throw LabError("no PostgreSQL 18 in \(pgBin) (--pg-bin); `make lab` installs it and records the path in .tools/pg18-bin")
        }
        // An agent a drill left frozen (SIGSTOP) cannot act until woken; pgrep counts it as running.
        _ = try? await Shell.run("/usr/bin/pkill", ["-CONT", "-f", agentPattern(nil)])
        if await everyProcessRuns(), try await clusterAnswers() {
            say("The lab is already up.")
            try await printConnectionHelp()
            return
        }
        // Drop rules left by an interrupted isolate-primary drill would keep the cluster apart.
        await LabIsolation(layout: layout).heal()
        try checkPorts()
        try prepareDirectories(user: user)
        if agent == .vigil { try install(vigilBinary, user: user) }
        for node in layout.nodes {
            try LabFiles.write(LabFiles.nodeConfig(node, layout: layout, pgBin: pgBin, profile: profile, sync: sync),
                               to: layout.config(node), mode: 0o600, owner: user)
        }
        try LabFiles.write(LabFiles.haproxy(layout, profile: profile), to: layout.haproxyConfig, mode: 0o644, owner: nil)
        try LabFiles.write(LabFiles.pgpass(layout), to: layout.pgpass, mode: 0o600, owner: nil)
        try LabFiles.write("\(agent.rawValue) \(profile.rawValue) \(layout.nodes.count) \(layout.etcdMembers.count) \(layout.subnet) \(sync.rawValue)\n",
                           to: layout.path("lab.conf"), mode: 0o644, owner: nil)

        try await startEtcd(etcd)
        for node in layout.nodes where !(await agentRunning(node)) {
            try await startAgent(node, user: user)
        }
        try await waitForCluster()
        try await createGuideDatabase()
        try await startHAProxy(haproxy)
        try await printConnectionHelp()
    }

    /// Every address the lab listens on must be free or held by the lab itself: a port taken by
    /// something else is named with the process that holds it, before anything starts.
    func checkPorts() throws {
        var needed: [(host: String, port: Int, what: String)] = [
            (layout.haproxyHost, layout.writePort, "HAProxy's write port"), (layout.haproxyHost, layout.readPort, "HAProxy's read port"),
            (layout.haproxyHost, layout.statsPort, "HAProxy's stats page"),
        ]
        for member in layout.etcdMembers {
            needed.append((member.host, layout.etcdClientPort, "etcd \(member.name)'s client port"))
            needed.append((member.host, layout.etcdPeerPort, "etcd \(member.name)'s peer port"))
        }
        for node in layout.nodes {
            needed.append((node.host, node.postgresPort, "\(node.name)'s PostgreSQL"))
            needed.append((node.host, node.restPort, "\(node.name)'s REST API"))
        }
        for (host, port, what) in needed where SocketProbe.accepts(host: host, port: port) {
            guard let owner = ListeningSocket.owner(host: host, port: port) else {
                throw LabError("\(host):\(port) (\(what)) is taken by a process this user cannot see; free it or choose another --subnet")
            }
            // The lab's own processes all name its directory (data, config or log path).
            if owner.command.contains(layout.directory + "/") { continue }
            throw LabError("\(host):\(port) (\(what)) is taken by \(owner.command.prefix(120)) (pid \(owner.pid)); stop it or choose another --subnet")
        }
    }

    func prepareDirectories(user: ProcessOwner?) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: layout.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            for sub in ["bin", "logs", "etcd"] {
                try fm.createDirectory(atPath: layout.path(sub), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            for node in layout.nodes {
                try fm.createDirectory(atPath: layout.nodeDirectory(node), withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o700])
                try user?.own(layout.nodeDirectory(node))
            }
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError("cannot create the lab directory \(layout.directory): \(error.localizedDescription)")
        }
        try user?.own(layout.path("logs"))
        // Every directory above the lab must be enterable by the user PostgreSQL runs as.
        if let user {
            var dir = (layout.directory as NSString).deletingLastPathComponent
            while dir != "/" && !dir.isEmpty {
                var info = stat()
                if stat(dir, &info) == 0, info.st_mode & 0o001 == 0, info.st_uid != user.uid {
                    throw LabError("\(dir) cannot be entered by the \(user.name) user that runs PostgreSQL; choose another place with --dir (e.g. --dir /var/lib/vigil/lab)")
                }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
    }

    /// The agent binary, copied into the lab so the unprivileged user can run it wherever the build is.
    func install(_ binary: String, user: ProcessOwner?) throws {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: binary) else { throw LabError("the vigil binary is not at \(binary); build it first (make lab)") }
        try? fm.removeItem(atPath: layout.binary)
        do {
            try fm.copyItem(atPath: binary, toPath: layout.binary)
        } catch {
            throw LabError("cannot copy \(binary) into \(layout.binary): \(error.localizedDescription)")
        }
        chmod(layout.binary, 0o755)
    }

    /// Starts every etcd member that is not running (a quorum may answer without the one that
    /// died), then waits for the cluster to answer.
    func startEtcd(_ etcd: String) async throws {
        let peers = layout.etcdMembers.map { "\($0.name)=http://\($0.host):\(layout.etcdPeerPort)" }.joined(separator: ",")
        for member in layout.etcdMembers where await pgrep(layout.etcdPattern(member)).isEmpty {
            guard !SocketProbe.accepts(host: member.host, port: layout.etcdClientPort) else {
                throw LabError("\(member.host):\(layout.etcdClientPort) is taken by something that is not the lab's etcd; stop it first")
            }
            say("starting etcd \(member.name) on \(member.host):\(layout.etcdClientPort)")
            let peer = "http://\(member.host):\(layout.etcdPeerPort)"
            let client = "http://\(member.host):\(layout.etcdClientPort)"
            try await Shell.daemon([etcd, "--name", member.name, "--data-dir", layout.etcdDataDirectory(member),
                                    "--listen-client-urls", client, "--advertise-client-urls", client,
                                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                    "--initial-cluster", peers, "--initial-cluster-token", "vigil-lab"],
                                   log: layout.log(member.name == "lab" ? "etcd" : "etcd-\(member.name)"))
        }
        try await wait("etcd to answer", seconds: 30) { try await clusterAnswers() }
    }

    func startHAProxy(_ haproxy: String) async throws {
        if await haproxyRunning() { return }
        let check = try await Shell.run(haproxy, ["-c", "-f", layout.haproxyConfig])
        guard check.succeeded else { throw LabError("HAProxy rejects \(layout.haproxyConfig): \(check.output)") }
        say("starting HAProxy: writes on \(layout.haproxyHost):\(layout.writePort), reads on \(layout.haproxyHost):\(layout.readPort)")
        try await Shell.daemon([haproxy, "-db", "-f", layout.haproxyConfig], log: layout.log("haproxy"))
        try await wait("HAProxy to listen", seconds: 15) { SocketProbe.accepts(host: layout.haproxyHost, port: layout.writePort) }
    }

    func waitForCluster() async throws {
        let seconds = 180
        say("waiting for the cluster: a leader, and every other node streaming from it (at most \(seconds) s)")
        let began = ContinuousClock.now
        try await wait("the cluster to form", seconds: seconds) {
            // An agent just started may not have exec'd yet (setsid → sh → setpriv → vigil): only
            // one missing after a few seconds has exited.
            let settled = ContinuousClock.now - began > .seconds(5)
            for node in settled ? layout.nodes : [] where !(await agentRunning(node)) {
                let log = (try? String(contentsOfFile: layout.log(node.name), encoding: .utf8)) ?? ""
                let tail = log.split(separator: "\n").suffix(6).joined(separator: "\n")
                throw LabError("the agent for \(node.name) exited; the end of \(layout.log(node.name)):\n\(tail)")
            }
            guard let cluster = try? await store().readCluster() else { return false }
            return health(cluster).problem == nil
        }
    }

    /// Whether the cluster is whole: a leader running as primary and every other node streaming
    /// from it, judged on member keys written after store revision `revision` (etcd restores
    /// older ones with their leases). Otherwise the first thing that is wrong, in words.
    func health(_ cluster: ClusterState, writtenAfter revision: Int64 = 0) -> (leader: LabLayout.Node?, problem: String?) {
        guard let leaderName = cluster.leader?.name, let leader = layout.nodes.first(where: { $0.name == leaderName }) else {
            return (nil, "the cluster has no leader")
        }
        for node in layout.nodes {
            guard let member = cluster.member(named: node.name), member.version > revision else {
                return (leader, "\(node.name) is not in the cluster (no member key); see its log: \(layout.log(node.name))")
            }
            let record = member.record
            if node.name == leaderName {
                guard record.isPrimary, record.state == "running" else {
                    return (leader, "the leader \(node.name) is not a running primary (role \(record.role ?? "?"), state \(record.state ?? "?"))")
                }
            } else if record.replicationState != "streaming" {
                return (leader, "\(node.name) is not streaming from \(leaderName) (state \(record.replicationState ?? record.state ?? "?"))")
            } else if let mine = record.timeline, let theirs = cluster.leaderMember?.record.timeline, mine < theirs {
                // A former primary whose WAL went past the branch point reports "streaming" for
                // the moment its walreceiver connects, before the leader refuses its position.
                return (leader, "\(node.name) is still on timeline \(mine), \(leaderName) on \(theirs)")
            }
        }
        // In synchronous mode the cluster is whole once the leader names a synchronous standby.
        if sync != .off, !layout.nodes.contains(where: { cluster.listsAsSynchronousStandby($0.name) }) {
            return (leader, "\(leaderName) has no synchronous standby yet (sync key: \(cluster.sync.map { $0.value.jsonValue.compactText } ?? "none"))")
        }
        return (leader, nil)
    }

    /// Every lab process is there: each etcd member, each agent, HAProxy.
    func everyProcessRuns() async -> Bool {
        for member in layout.etcdMembers where await pgrep(layout.etcdPattern(member)).isEmpty { return false }
        guard await runningAgents() == layout.nodes.count else { return false }
        return await haproxyRunning()
    }

    /// The guide's application database, `sqluser_db` owned by `sqlUser` (the guide creates it by
    /// hand in stage 2), created on the leader once; psql connects to it through HAProxy.
    func createGuideDatabase() async throws {
        guard let leaderName = try? await store().readCluster().leader?.name,
              let leader = layout.nodes.first(where: { $0.name == leaderName }) else { return }
        let postgres = LabPostgres(host: leader.host, port: leader.postgresPort, password: LabFiles.superuserPassword)
        do {
            // Patroni 4 ignores bootstrap.users (Vigil's agent creates the role): under Patroni
            // the lab makes it, as the guide does by hand.
            if agent == .patroni { try await postgres.createRole(LabFiles.applicationUser, password: LabFiles.applicationPassword) }
            try await postgres.createDatabase(LabFiles.database, owner: LabFiles.applicationUser)
        } catch {
            throw LabError("cannot create the database \(LabFiles.database) on \(leaderName): \(PostgresErrorText.describe(error))")
        }
    }

    func wait(_ what: String, seconds: Int, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            do {
                if try await condition() { return }
            } catch let error as LabError {
                throw error
            } catch {}
            try await Task.sleep(for: .milliseconds(300))
        }
        throw LabError("timed out waiting for \(what); the logs are in \(layout.path("logs"))")
    }

    // MARK: status

    func store() throws -> EtcdStore {
        do {
            let gateway = try EtcdGateway(settings: EtcdConnectionSettings(hosts: layout.etcdEndpoints, useProxies: true))
            return EtcdStore(kv: gateway, layout: KeyLayout(namespace: layout.namespace, scope: layout.scope), memberName: nil,
                             ttl: 30, retryTimeout: 2)
        } catch {
            throw LabError("\(error)")
        }
    }

    func clusterAnswers() async throws -> Bool {
        guard layout.etcdMembers.contains(where: { SocketProbe.accepts(host: $0.host, port: layout.etcdClientPort) }) else { return false }
        return (try? await store().readCluster()) != nil
    }

    public func status() async throws {
        guard try await clusterAnswers() else {
            say("The lab is down (no etcd at \(layout.etcdEndpoint)). Start it with: vigilctl lab up")
            return
        }
        let cluster = try await store().readCluster()
        say("Cluster \(layout.scope) (\(cluster.initialize ?? "uninitialized")), lab directory \(layout.directory)")
        for member in cluster.members.sorted(by: { $0.name < $1.name }) {
            let role = cluster.leader?.name == member.name ? "Leader" : "Replica"
            let state = member.record.replicationState ?? member.record.state ?? "?"
            say("  \(member.name)  \(role)  \(state)  TL \(member.record.timeline.map(String.init) ?? "-")")
        }
        say("  HAProxy: \(await haproxyRunning() ? "running" : "not running")")
    }

    func printConnectionHelp() async throws {
        var routed = ""
        if let psql = Shell.which("psql") {
            let check = try? await Shell.run(psql, ["-h", layout.haproxyHost, "-p", String(layout.writePort), "-U", "postgres",
                                                    "-d", "postgres", "-Atc", "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()::text"],
                                             environment: ["PGPASSFILE": layout.pgpass, "PGCONNECT_TIMEOUT": "5"])
            if let check, check.succeeded { routed = check.output.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        let leader = (try? await store().readCluster())?.leader?.name ?? "?"
        let ctl = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "vigilctl")
        // The cluster as `vigilctl list` shows it (the same table as patronictl's).
        if let first = layout.nodes.first, let list = try? await Shell.run(ctl, ["-c", layout.config(first), "list"]), list.succeeded {
            say("")
            say(list.output.trimmingCharacters(in: .newlines))
        }
        let defaultDirectory = LabLayout(directory: ".lab").directory
        var dirOption = layout.directory == defaultDirectory ? "" : " --dir \(layout.directory)"
        // Later commands read the subnet from lab.conf; a lab from an older version may not have it.
        if layout.subnet != LabLayout.defaultSubnet { dirOption += " --subnet \(layout.subnet)" }
        say("""

            The guide's cluster is up (\(profile.rawValue) timings\(sync == .off ? "" : ", synchronous replication: \(sync.rawValue)"); state in \(layout.directory)).
              leader: \(leader)\(routed.isEmpty ? "" : "; HAProxy :\(layout.writePort) reaches \(routed.replacingOccurrences(of: " false", with: " (primary)").replacingOccurrences(of: " true", with: " (replica!)"))")
              writes: PGPASSFILE=\(layout.pgpass) psql -h \(layout.haproxyHost) -p \(layout.writePort) -U \(LabFiles.applicationUser) -d \(LabFiles.database)
              reads:  PGPASSFILE=\(layout.pgpass) psql -h \(layout.haproxyHost) -p \(layout.readPort) -U \(LabFiles.applicationUser) -d \(LabFiles.database)
              (the superuser: -U postgres; the passwords are the guide's, in \(layout.pgpass))
              nodes:  \(layout.nodes.map { "\($0.name) http://\($0.host):\($0.restPort)/patroni" }.joined(separator: ", "))
              HAProxy stats: http://\(layout.haproxyHost):\(layout.statsPort)/
              state:  \(ctl) lab status\(dirOption)
              stop:   \(ctl) lab down\(dirOption)
              logs:   \(layout.path("logs"))
            """)
    }

    // MARK: down

    public func down() async throws {
        if await runningAgents() > 0 {
            say("stopping the \(agent.rawValue) agents (each stops its PostgreSQL)")
            // An agent frozen by a drill that was interrupted cannot act on SIGTERM until woken.
            _ = try await Shell.run("/usr/bin/pkill", ["-CONT", "-f", agentPattern(nil)])
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", agentPattern(nil)])
            try? await wait("the agents to stop", seconds: 60) { await runningAgents() == 0 }
        }
        if await haproxyRunning() {
            say("stopping HAProxy")
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", "haproxy -db -f \(layout.haproxyConfig)"])
        }
        for member in layout.etcdMembers where !(await pgrep(layout.etcdPattern(member))).isEmpty {
            say("stopping etcd \(member.name)")
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", layout.etcdPattern(member)])
        }
        // A postmaster whose agent was killed: fast shutdown.
        _ = try await Shell.run("/usr/bin/pkill", ["-INT", "-f", "postgres -D \(layout.directory)/"])
        try? await wait("every lab process to stop", seconds: 30) { await labProcesses().isEmpty }
        // A drill interrupted while a node was cut off leaves its drop rules behind.
        let isolation = LabIsolation(layout: layout)
        await isolation.heal()
        isolation.removeCgroups()
        say("The lab is down; its data stays in \(layout.directory) (vigilctl lab up starts it again).")
    }

    func pgrep(_ pattern: String) async -> [Int32] {
        guard let result = try? await Shell.run("/usr/bin/pgrep", ["-f", pattern]) else { return [] }
        return result.output.split(separator: "\n").compactMap { Int32($0) }
    }

    func runningAgents() async -> Int { await pgrep(agentPattern(nil)).count }
    func agentRunning(_ node: LabLayout.Node) async -> Bool { !(await pgrep(agentPattern(node))).isEmpty }
    func haproxyRunning() async -> Bool { !(await pgrep("haproxy -db -f \(layout.haproxyConfig)")).isEmpty }
    func labProcesses() async -> [Int32] { await pgrep(layout.directory + "/") }
}
