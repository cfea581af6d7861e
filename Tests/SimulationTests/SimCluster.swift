import Logging
import Synchronization
import VigilAPI
import VigilAgent
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

/// N real agent loops (`HALoop`, the shell the agent ships, with its `HAMachine`) over one
/// `InMemoryStore` on a manual clock, with simulated PostgreSQL servers, replication and
/// client writes, and faults injected from a seed. The simulation only schedules cycles,
/// moves WAL and breaks things; every decision is the agent's own.
final class SimCluster: @unchecked Sendable {
    final class Node: @unchecked Sendable {
        let name: String
        let index: Int
        let server: SimServer
        /// The node's fence: it outlives every agent the node runs.
        let fence: SimFence
        let setup: AgentSetup
        var loop: HALoop
        var box: SnapshotBox
        var connection: InMemoryConnection
        /// The agent process runs (not killed, not exited).
        var agentAlive = true
        /// The agent passed its preflight (store read, leftover postmaster stopped).
        var ready = false
        var frozenUntil: Duration?
        var storeCutUntil: Duration?
        /// Its REST API answers too slowly for a peer probe.
        var slowUntil: Duration?
        var nextCycle: Duration = .zero
        /// Switchover demotions its agent had counted when last looked at.
        var switchoverDemotions: Int64 = 0

        init(name: String, index: Int, server: SimServer, fence: SimFence, setup: AgentSetup, loop: HALoop, box: SnapshotBox,
             connection: InMemoryConnection) {
            self.name = name
            self.index = index
            self.server = server
            self.fence = fence
            self.setup = setup
            self.loop = loop
            self.box = box
            self.connection = connection
        }

        func frozen(at now: Duration) -> Bool { frozenUntil.map { now < $0 } ?? false }
        func slow(at now: Duration) -> Bool { slowUntil.map { now < $0 } ?? false }
        func agentRunning(at now: Duration) -> Bool { agentAlive && !frozen(at: now) }
    }

    let memory: InMemoryStore
    let layout = KeyLayout(namespace: "/sim/", scope: "cluster")
    /// An operator's view of the store (no lease), for checks and requests.
    let observer: EtcdStore
    /// The same view, key by key: the invariants after every step read only the leader and
    /// history keys (decoding every member key each step would double the simulation's cost).
    let observerKV: InMemoryConnection
    let timings = HATimings(ttl: 10, loopWait: 2, retryTimeout: 4)
    var nodes: [Node] = []
    var rng: SimRandom
    var nextSystemID = 7_000_000_000_000_000_000 as UInt64
    /// The first thing that went wrong, with the step it happened at.
    var violation: String?
    let log: SimLog

    /// What happened to the servers, in order: what the hand-over invariant reads.
    enum Event {
        case cleanStop(String, wal: Int64)
        case promoted(String, wal: Int64)
        case fault
        /// An operator's switchover or failover request: a failover naming a member is the
        /// operator's choice of who leads, whatever it lacks (as in Patroni).
        case request
        /// A commit up to `wal` was acknowledged after a synchronous standby confirmed it.
        case syncAcknowledged(String, wal: Int64)
    }

    /// The highest synchronously acknowledged commit not yet shown to be on the next leader.
    var pendingSyncAck: (from: String, wal: Int64)?
    /// The member an operator's failover last named: promoting it is their choice, even when it
    /// lacks commits (Patroni allows a failover to an asynchronous member, after asking).
    var requestedTarget: String?

    var events: [Event] = []
    /// Graceful hand-overs not yet checked: where the old primary's clean stop is in `events`.
    var handovers: [(from: String, at: Int)] = []

    func record(_ event: Event) {
        events.append(event)
        switch event {
        case let .syncAcknowledged(from, wal):
            pendingSyncAck = (from, wal)
        case let .promoted(to, wal):
            // The member promoted next must have every commit acknowledged synchronously before.
            if let (from, acked) = pendingSyncAck, from != to, wal < acked, to != requestedTarget, violation == nil {
                violation = "\(to) was promoted at wal \(wal), but \(from) had acknowledged synchronous commits up to \(acked): acknowledged writes lost"
            }
            pendingSyncAck = nil
        case .request:
            break
        case .cleanStop, .fault:
            break
        }
    }

    var now: Duration { memory.clock.now }
    var servers: [SimServer] { nodes.map(\.server) }

    init(seed: UInt64, size: Int, keepLog: Bool = false) {
        rng = SimRandom(seed: seed)
        log = SimLog(keeping: keepLog)
        memory = InMemoryStore(clock: .manual())
        (observer, observerKV) = memory.store(layout: layout, memberName: nil)
        for i in 0..<size {
            let name = "n\(i)"
            let nofailover = size > 2 && i == size - 1 && seed % 5 == 0
            let setup = Self.setup(Self.configuration(name: name, index: i, nofailover: nofailover, sync: Self.syncMode(seed: seed)))
            let server = SimServer(world: self, name: name)
            let fence = SimFence(world: self, server: server)
            let (loop, box, connection) = makeAgent(setup: setup, server: server, fence: fence)
            nodes.append(Node(name: name, index: i, server: server, fence: fence, setup: setup, loop: loop, box: box,
                              connection: connection))
        }
    }

    /// Synchronous replication by seed: a quarter of the schedules each run priority, strict
    /// priority and quorum mode (the dcs lines of bootstrap.dcs), the rest asynchronously.
    static func syncMode(seed: UInt64) -> String {
        switch (seed / 2) % 4 {
        case 1: "synchronous_mode: on"
        case 2: "synchronous_mode: on\n    synchronous_mode_strict: true"
        case 3: "synchronous_mode: quorum"
        default: "# asynchronous"
        }
    }

    /// Each node's patroni.yml: the timings the old simulation used (ttl 10, loop_wait 2,
    /// retry_timeout 4), addresses that only name the node (nothing listens on them).
    static func configuration(name: String, index: Int, nofailover: Bool, sync: String = "off") -> String {
        """
        scope: cluster
        namespace: /sim/
        name: \(name)
        restapi:
          listen: 127.0.0.\(index + 1):8008
          connect_address: 127.0.0.\(index + 1):8008
        etcd3:
          hosts: 127.0.0.1:2379
        bootstrap:
          dcs:
            ttl: 10
            loop_wait: 2
            retry_timeout: 4
            maximum_lag_on_failover: 1048576
            primary_start_timeout: 20
            \(sync)
        postgresql:
          listen: 127.0.0.\(index + 1):5432
          connect_address: 127.0.0.\(index + 1):5432
          data_dir: /nonexistent/vigil-simulation/\(name)
          # Nothing is run: the simulation's PostgreSQL is SimServer.
          bin_name: {postgres: /bin/true, initdb: /bin/true, pg_basebackup: /bin/true, pg_rewind: /bin/true, pg_controldata: /bin/true}
          use_slots: true
          use_pg_rewind: true
          authentication:
            superuser: {username: postgres, password: sim}
            replication: {username: replicator, password: sim}
        tags:
          nofailover: \(nofailover)
        """
    }

    /// The agent's own reading of a node's configuration, made once per distinct file: every
    /// schedule uses the same few.
    static func setup(_ yaml: String) -> AgentSetup {
        if let known = setups.withLock({ $0[yaml] }) { return known }
        let setup = try! AgentSetup(ConfigSource.load(path: nil, environment: ["VIGIL_CONFIGURATION": yaml]).configuration)
        setups.withLock { $0[yaml] = setup }
        return setup
    }

    static let setups = Mutex<[String: AgentSetup]>([:])

    /// A new agent process for `setup` (a new lease, no memory), over the same server and fence.
    func makeAgent(setup: AgentSetup, server: SimServer, fence: SimFence) -> (HALoop, SnapshotBox, InMemoryConnection) {
        let (store, connection) = memory.store(layout: layout, memberName: setup.identity.name, ttl: timings.ttl,
                                               retryTimeout: timings.retryTimeout)
        let box = SnapshotBox(NodeSnapshot(scope: "cluster", name: setup.identity.name))
        box.update { $0.tags = setup.tags }
        let logger = Logger(label: "sim.\(setup.identity.name)") { [log] _ in SimLogHandler(log: log, node: setup.identity.name) }
        let loop = HALoop(configPath: "/nonexistent/vigil-simulation.yml", setup: setup, store: store, instance: server,
                          probe: SimProbe(world: self), box: box, wakeup: Wakeup(), clock: memory.clock, logger: logger,
                          fence: fence)
        return (loop, box, connection)
    }

    func node(_ name: String) -> Node? { nodes.first { $0.name == name } }
    func server(at address: HostPort) -> SimServer? { nodes.first { "127.0.0.\($0.index + 1)" == address.host }?.server }

    func newSystemID() -> String {
        nextSystemID += 1
        return String(nextSystemID)
    }

    func note(_ text: @autoclosure () -> String) { log.note("[\(now.components.seconds)s] \(text())") }

    // MARK: Time

    /// A simulated second begins: the clock moves on, leases that ran out end, and the fences
    /// act on their own clock, whatever the agents do.
    func beginSecond() async {
        memory.clock.advance(by: .seconds(1))
        await memory.expireLeases()
        for node in nodes { node.fence.tick() }
    }

    /// Every agent that runs takes its step of the second that began at `now` (a store cut that
    /// is over is mended, a frozen agent whose time is up thaws and runs at once).
    func runAgents(at now: Duration) async {
        for node in nodes where node.agentRunning(at: now) {
            if let storeCut = node.storeCutUntil, storeCut <= now {
                node.connection.faults = .none
                node.storeCutUntil = nil
            }
            if node.frozenUntil != nil, !node.frozen(at: now) {
                node.frozenUntil = nil
                node.nextCycle = now
            }
            await run(node)
            // A cycle with slow answers moved the clock on: every fence acts on it before the
            // next agent runs (one that was due meanwhile ran late, as under load).
            if self.now != now { for each in nodes { each.fence.tick() } }
        }
    }

    /// Between the agents' steps: replication, synchronous acknowledgements, client writes.
    func betweenCycles() {
        replicate()
        acknowledgeCommits()
        clientWrites()
    }

    // MARK: Agents

    /// One step of an agent's life: its preflight until it passes, then a cycle when one is due.
    func run(_ node: Node) async {
        if !node.ready {
            switch await node.loop.preflightOnce() {
            case .ready:
                node.ready = true
            case let .refused(reason):
                note("\(node.name) refused to start: \(reason)")
                node.agentAlive = false
                return
            case .storeUnavailable:
                return
            }
        }
        guard node.nextCycle <= now else { return }
        await node.loop.cycle()
        node.nextCycle = await node.loop.nextCycleAt
        if let fatal = await node.loop.fatal {
            note("\(node.name) exits: \(fatal)")
            node.agentAlive = false
        }
        guard log.keeping else { return }
        let pg = node.server
        let lock = await node.loop.lock
        note("  \(node.name) now: running \(pg.running) \(pg.role) tl \(pg.timeline) wal \(pg.wal) upstream \(pg.upstream ?? "-") lock \(lock)")
    }

    /// A restarted agent is a new process: a new lease, no memory of its lock.
    func restartAgent(_ node: Node) {
        note("\(node.name) agent back")
        let (loop, box, connection) = makeAgent(setup: node.setup, server: node.server, fence: node.fence)
        node.loop = loop
        node.box = box
        node.connection = connection
        node.storeCutUntil = nil
        node.agentAlive = true
        node.ready = false
        node.nextCycle = now
        node.switchoverDemotions = 0
    }

    // MARK: The world between cycles

    /// Streaming replication: replicas that can follow their upstream catch up to it.
    func replicate() {
        for server in servers where server.running && server.role == .replica && !server.hung(at: now) {
            server.streaming = false
            guard let upstream = server.upstream.flatMap(node)?.server, upstream.isPrimary, !upstream.hung(at: now),
                  !server.diverged(from: upstream) else { continue }
            server.streaming = true
            server.timeline = upstream.timeline
            server.history = upstream.history
            server.wal = max(server.wal, upstream.wal - Int64.random(in: 0...200, using: &rng))
        }
    }

    /// What HAProxy's `GET /primary` check routes writes to: a writable server whose agent
    /// answers and whose REST API says it leads (the snapshot the real health check reads).
    func routablePrimaries() -> [Node] {
        let instant = memory.clock.instant(now)
        return nodes.filter { $0.server.writable && $0.agentRunning(at: now) && $0.box.snapshot().isLeader(at: instant) }
    }

    func clientWrites() {
        let primaries = routablePrimaries()
        if primaries.count == 1 { primaries[0].server.wal += Int64.random(in: 1...500, using: &rng) }
    }

    /// Commits whose standbys confirmed them are acknowledged (synchronous commit): up to where
    /// the standbys the primary's synchronous_standby_names waits for have its WAL.
    func acknowledgeCommits() {
        for primary in routablePrimaries() {
            let server = primary.server
            guard server.parsedSyncNames.kind != .off, let acked = server.acknowledgedPosition(), acked > server.syncAcknowledged else {
                continue
            }
            server.syncAcknowledged = acked
            record(.syncAcknowledged(primary.name, wal: acked))
        }
    }

    // MARK: Invariants

    func checkInvariants(step: Int) async {
        guard violation == nil else { return }
        let routable = routablePrimaries()
        if routable.count > 1 {
            violation = "step \(step): \(routable.count) writable primaries routed to: \(routable.map(\.name))"
            return
        }
        let cluster = await leaderAndHistory()
        // Writes are routed only while the lease that makes the node leader has not ended.
        if let primary = routable.first, cluster?.leader?.name != primary.name {
            violation = "step \(step): writes are routed to \(primary.name) after its lease ended (the key is \(cluster?.leader?.name ?? "gone"))"
            return
        }
        for node in nodes where node.server.isPrimary {
            let holds = cluster?.leader?.name == node.name
            // An agent that is dead or frozen decides nothing: its fence alone must have stopped
            // the server before the lease it last renewed ended.
            guard node.agentRunning(at: now) else {
                if !holds {
                    violation = "step \(step): \(node.name) runs as primary after its lease ended while its agent is \(node.agentAlive ? "frozen" : "gone") (its fence did not stop it)"
                    return
                }
                continue
            }
            let lock = await node.loop.lock
            let recently = lock.lastConfirmed.map { now - $0 <= timings.ttlDuration } ?? false
            if !holds && !recently {
                violation = "step \(step): \(node.name) runs as primary without the lock (last confirmed \(String(describing: lock.lastConfirmed)), now \(now))"
                return
            }
        }
        if let primary = routable.first, let cluster, cluster.history != nil, primary.server.timeline < cluster.timeline {
            violation = "step \(step): \(primary.name) takes writes on timeline \(primary.server.timeline) after timeline \(cluster.timeline) exists"
            return
        }
        checkHandovers(step: step)
    }

    /// The store's leader and history keys, as the agents decode them.
    func leaderAndHistory() async -> ClusterState? {
        guard let leader = try? await observerKV.range(layout.leader, rangeEnd: nil, serializable: false, budget: .seconds(1)),
              let history = try? await observerKV.range(layout.history, rangeEnd: nil, serializable: false, budget: .seconds(1))
        else { return nil }
        return ClusterStateDecoder.decode(leader.kvs + history.kvs, layout: layout, revision: history.revision)
    }

    /// A graceful hand-over (a switchover's demotion) loses nothing: the first member promoted
    /// after the old primary's clean stop has every write it had, unless a fault or another
    /// operator request came between.
    func checkHandovers(step: Int) {
        for node in nodes {
            let count = node.box.snapshot().roleChanges[Reason.switchoverDemoting.rawValue] ?? 0
            if count > node.switchoverDemotions,
               let stop = events.lastIndex(where: { if case .cleanStop(node.name, _) = $0 { true } else { false } }) {
                handovers.append((node.name, stop))
            }
            node.switchoverDemotions = count
        }
        handovers.removeAll { handover in
            guard case let .cleanStop(from, stoppedAt) = events[handover.at] else { return true }
            for event in events[(handover.at + 1)...] {
                switch event {
                case .fault, .request:
                    return true
                case let .promoted(to, wal):
                    if wal < stoppedAt {
                        violation = "step \(step): the switchover from \(from) to \(to) lost writes (\(to) was promoted at wal \(wal), \(from) stopped at \(stoppedAt))"
                    }
                    return true
                case .cleanStop, .syncAcknowledged:
                    continue
                }
            }
            return false
        }
    }

    /// After faults stop: one primary holding the lock, every other member a streaming replica of it.
    func convergenceProblem() async -> String? {
        guard let cluster = try? await observer.readCluster() else { return "store unreadable" }
        guard let leaderName = cluster.leader?.name, let leader = node(leaderName) else { return "no leader key" }
        guard leader.server.isPrimary else { return "the leader \(leaderName) is not running as primary" }
        for node in nodes where node !== leader && node.agentAlive {
            let pg = node.server
            guard pg.running, pg.role == .replica, pg.upstream == leaderName, !pg.diverged(from: leader.server) else {
                return "\(node.name) is not a streaming replica of \(leaderName) (running \(pg.running), role \(pg.role), upstream \(pg.upstream ?? "-"), tl \(pg.timeline) vs \(leader.server.timeline))"
            }
        }
        return nil
    }
}

extension HATimings {
    var ttlDuration: Duration { .seconds(ttl) }
}

/// The peers as the agent's probe sees them: what each one's REST API would answer from its
/// snapshot, or silence when its agent is dead, frozen or too slow.
struct SimProbe: PeerProbing {
    unowned let world: SimCluster

    func statuses(of members: [Member]) async -> [PeerStatus] {
        members.map { member in
            guard let peer = world.node(member.name), peer.agentRunning(at: world.now), !peer.slow(at: world.now) else {
                return .unreachable(member.name)
            }
            // Its `GET /patroni`, as its REST API writes it (WAL positions read live from its
            // server) and the agent's probe reads it.
            var snapshot = peer.box.snapshot()
            snapshot.take(peer.server.running && !peer.server.hung(at: world.now) ? .read(peer.server.positions) : .unanswered)
            let document = StatusDocument.json(snapshot, now: world.memory.clock.instant(world.now))
            return PeerProbe.peerStatus(peer.name, document)
        }
    }

    func answersLiveness(_ apiURL: String) async -> Bool { false }
}
