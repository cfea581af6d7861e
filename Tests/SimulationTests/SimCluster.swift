import VigilCore
import VigilDCS

/// N agents running `HAEngine` over one `InMemoryStore` on a manual clock, with simulated
/// PostgreSQL servers, replication and client writes, and faults injected from a seed.
final class SimCluster {
    final class Node {
        let name: String
        var store: EtcdStore
        var connection: InMemoryConnection
        var postgres = SimPostgres()
        var lock = LockState()
        var agentAlive = true
        var frozenUntil: Duration?
        var storeCutUntil: Duration?
        /// Its REST API answers too slowly for a peer probe.
        var slowUntil: Duration?
        /// Its PostgreSQL runs but answers no query (overloaded, hung).
        var postgresHungUntil: Duration?
        var nextCycle: Duration = .zero
        /// A gate failed with a store error this cycle: the rest of the cycle sees the store unreachable.
        var storeFailedGate = false
        let identity: MemberIdentity

        init(name: String, store: EtcdStore, connection: InMemoryConnection, identity: MemberIdentity) {
            self.name = name
            self.store = store
            self.connection = connection
            self.identity = identity
        }

        func frozen(at now: Duration) -> Bool { frozenUntil.map { now < $0 } ?? false }
        func slow(at now: Duration) -> Bool { slowUntil.map { now < $0 } ?? false }
        func postgresHung(at now: Duration) -> Bool { postgres.running && (postgresHungUntil.map { now < $0 } ?? false) }
        func agentRunning(at now: Duration) -> Bool { agentAlive && !frozen(at: now) }
    }

    let memory: InMemoryStore
    let layout = KeyLayout(namespace: "/sim/", scope: "cluster")
    /// An operator's view of the store (no lease), for checks and requests.
    let observer: EtcdStore
    let settings: EngineSettings
    var nodes: [Node] = []
    var rng: SimRandom
    var nextSystemID = 7_000_000_000_000_000_000 as UInt64
    /// The first thing that went wrong, with the step it happened at.
    var violation: String?
    var log: [String] = []
    let keepLog: Bool

    var now: Duration { memory.clock.now }

    init(seed: UInt64, size: Int, keepLog: Bool = false) {
        rng = SimRandom(seed: seed)
        self.keepLog = keepLog
        memory = InMemoryStore(clock: .manual())
        observer = memory.store(layout: layout, memberName: nil).store
        settings = EngineSettings(timings: HATimings(ttl: 10, loopWait: 2, retryTimeout: 4), maximumLagOnFailover: 1_048_576,
                                  primaryStartTimeout: .seconds(20))
        for i in 0..<size {
            let name = "n\(i)"
            let (store, connection) = memory.store(layout: layout, memberName: name, ttl: settings.timings.ttl,
                                                   retryTimeout: settings.timings.retryTimeout)
            let identity = MemberIdentity(name: name, nofailover: size > 2 && i == size - 1 && seed % 5 == 0,
                                          failoverPriority: 1, canBootstrap: true)
            nodes.append(Node(name: name, store: store, connection: connection, identity: identity))
        }
    }

    func node(_ name: String) -> Node? { nodes.first { $0.name == name } }

    func note(_ text: @autoclosure () -> String) {
        if keepLog { log.append("[\(now.components.seconds)s] \(text())") }
    }

    // MARK: One agent cycle

    func observe(_ node: Node, peers: [PeerStatus]?) async -> Observation {
        let view: StoreView
        if let cluster = try? await node.store.readCluster() { view = .reachable(cluster) } else { view = .unreachable }
        let dataDirectory: LocalPostgres.DataDirectory = node.postgres.systemID.map { .initialized(systemID: $0) } ?? .empty
        // A hung server answers nothing: the agent knows only that it runs and the role it last had.
        let hung = node.postgresHung(at: now)
        let status = hung ? PostgresStatus(state: .running, role: node.postgres.role) : node.postgres.status()
        return Observation(now: now, wallClock: 1_800_000_000 + Double(now.components.seconds), me: node.identity,
                           settings: settings, store: view,
                           postgres: LocalPostgres(dataDirectory: dataDirectory, status: status,
                                                   following: node.postgres.following, stateSince: node.postgres.since,
                                                   answering: !hung),
                           lock: node.lock, peers: peers)
    }

    /// Runs one HA cycle on `node`: decide, act until a gate fails, and decide again after a
    /// failed gate or a peer probe (a few times at most, as the agent's immediate wake-ups do).
    func cycle(_ node: Node) async {
        var peers: [PeerStatus]?
        var last: Observation?
        node.storeFailedGate = false
        for _ in 0..<4 {
            var observation = await observe(node, peers: peers)
            if node.storeFailedGate { observation.store = .unreachable }
            last = observation
            let decision = HAEngine.decide(observation)
            note("\(node.name): \(decision.summary) \(decision.actions)")
            var again = false
            for action in decision.actions {
                if case .probePeers = action {
                    peers = probe(from: node)
                    again = true
                    break
                }
                let ok = await perform(action, on: node, observation: observation)
                if !ok {
                    // As the agent: a lost gate is decided again at once, a failed step next cycle.
                    again = action.isGate
                    break
                }
            }
            if !again { break }
        }
        await publish(node, extendingLease: last?.memberWriteMayExtendLease(lock: node.lock) ?? true)
        let pg = node.postgres
        note("  \(node.name) now: running \(pg.running) \(pg.role) tl \(pg.timeline) wal \(pg.wal) following \(pg.following ?? "-") lock \(node.lock)")
    }

    /// Every cycle ends with the member key (Patroni's touch_member), which extends the lease
    /// only as the agent's does.
    func publish(_ node: Node, extendingLease: Bool) async {
        let pg = node.postgres
        let record = MemberRecord(state: pg.running ? "running" : "stopped", role: pg.role.rawValue,
                                  xlogLocation: pg.running ? pg.wal : nil, timeline: pg.running ? pg.timeline : nil)
        try? await node.store.publishMember(record, extendingLease: extendingLease)
    }

    func probe(from node: Node) -> [PeerStatus] {
        nodes.filter { $0 !== node }.map { peer in
            guard peer.agentRunning(at: now), !peer.slow(at: now) else { return .unreachable(peer.name) }
            let pg = peer.postgres
            return PeerStatus(name: peer.name, reachable: true, inRecovery: !pg.isPrimary,
                              walPosition: pg.running ? pg.wal : 0, nofailover: peer.identity.nofailover,
                              failoverPriority: peer.identity.failoverPriority, timeline: pg.running ? pg.timeline : nil)
        }
    }

    /// Carries out one action; false when it failed (a gate that did not pass, or the store erred).
    func perform(_ action: Action, on node: Node, observation: Observation) async -> Bool {
        let store = node.store
        do {
            switch action {
            case .probePeers:
                return true
            case .claimInitialization:
                return try await store.initialize(systemID: "", create: true)
            case .bootstrap:
                nextSystemID += 1
                node.postgres = SimPostgres(systemID: String(nextSystemID), running: true, role: .primary, timeline: 1,
                                            wal: 1000, since: now)
            case .recordSystemID:
                if let sysid = node.postgres.systemID { _ = try await store.initialize(systemID: sysid, create: false) }
            case .writeInitialConfig:
                _ = try await store.setConfig(["ttl": 10, "loop_wait": 2, "retry_timeout": 4], expectedVersion: nil)
            case .acquireLeader:
                let sent = now
                guard try await store.acquireLeader() else { return false }
                node.lock = LockState(lastConfirmed: sent)
            case .renewLeader:
                let sent = now
                // As the agent: no answer is no proof, so an error counts as a lost lock.
                guard let answer = try? await store.renewLeader(), answer == .held else {
                    node.lock.lost = true
                    return false
                }
                node.lock = LockState(lastConfirmed: sent)
            case .releaseLeader:
                _ = try await store.releaseLeader()
                node.lock = LockState()
            case let .createReplica(from):
                guard let source = self.node(from), source.postgres.running else { return false }
                var copy = source.postgres
                copy.role = .replica
                copy.following = from
                copy.since = now
                node.postgres = copy
            case let .startPostgres(role):
                node.postgres.running = true
                node.postgres.crashed = false
                node.postgres.since = now
                switch role {
                case .primary:
                    node.postgres.role = .primary
                    node.postgres.following = nil
                case let .replica(following):
                    node.postgres.role = .replica
                    node.postgres.following = following
                }
            case let .follow(leader), let .rejoin(leader):
                guard let upstream = self.node(leader), upstream.postgres.running else { return false }
                if node.postgres.diverged(from: upstream.postgres) { node.postgres.rewind(onto: upstream.postgres) }
                node.postgres.role = .replica
                node.postgres.following = leader
                if !node.postgres.running { node.postgres.since = now }
                node.postgres.running = true
                node.postgres.crashed = false
            case .promote:
                var known: Int64 = 0
                if case let .reachable(cluster) = observation.store { known = cluster.timeline }
                node.postgres.promote(knownTimelines: known)
            case let .demote(mode):
                if mode == .graceful {
                    // The shutdown checkpoint reaches the replicas before the key is released.
                    for replica in nodes where replica.postgres.following == node.name && replica.postgres.running
                        && !replica.postgres.diverged(from: node.postgres) {
                        replica.postgres.wal = node.postgres.wal
                    }
                }
                if mode == .graceful || mode == .immediate { _ = try? await store.releaseLeader() }
                if mode != .offline { node.lock = LockState() }
                node.postgres.role = .replica
                node.postgres.following = nil
                node.postgres.running = true
                node.postgres.since = now
            case .updateStatus:
                if node.postgres.isPrimary { try await store.setStatus(StatusRecord(optime: node.postgres.wal)) }
            case .recordHistory:
                let events = node.postgres.history.map {
                    TimelineEvent(timeline: $0.parentTimeline, lsn: $0.switchpoint, reason: "promoted", newLeader: node.name)
                }
                try await store.setHistory(events)
            case let .clearFailover(version):
                _ = try await store.setFailover(FailoverRequest(), expectedVersion: version)
            case let .exit(reason):
                note("\(node.name) exits: \(reason)")
                node.agentAlive = false
            }
            return true
        } catch {
            if action.isGate { node.storeFailedGate = true }
            return false
        }
    }

    // MARK: The world between cycles

    /// Streaming replication: replicas that can follow their upstream catch up to it.
    func replicate() {
        for node in nodes where node.postgres.running && node.postgres.role == .replica {
            node.postgres.streaming = false
            guard let upstream = node.postgres.following.flatMap(self.node), upstream.postgres.isPrimary,
                  !node.postgres.diverged(from: upstream.postgres) else { continue }
            node.postgres.streaming = true
            node.postgres.timeline = upstream.postgres.timeline
            node.postgres.history = upstream.postgres.history
            node.postgres.wal = max(node.postgres.wal, upstream.postgres.wal - Int64.random(in: 0...200, using: &rng))
        }
    }

    /// What HAProxy's `GET /primary` check would route writes to: a running primary whose
    /// agent answers and still trusts its lock.
    func routablePrimaries() -> [Node] {
        nodes.filter { $0.postgres.isPrimary && $0.agentRunning(at: now) && $0.lock.isValid(at: now, ttl: settings.ttl) }
    }

    func clientWrites() {
        let primaries = routablePrimaries()
        if primaries.count == 1, !primaries[0].postgresHung(at: now) {
            primaries[0].postgres.wal += Int64.random(in: 1...500, using: &rng)
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
        let cluster = try? await observer.readCluster()
        for node in nodes where node.postgres.isPrimary && node.agentRunning(at: now) {
            let holds = cluster?.leader?.name == node.name
            let recently = node.lock.lastConfirmed.map { now - $0 <= settings.ttl } ?? false
            if !holds && !recently {
                violation = "step \(step): \(node.name) runs as primary without the lock (last confirmed \(String(describing: node.lock.lastConfirmed)), now \(now))"
                return
            }
        }
        if let primary = routable.first, let cluster, cluster.history != nil, primary.postgres.timeline < cluster.timeline {
            violation = "step \(step): \(primary.name) takes writes on timeline \(primary.postgres.timeline) after timeline \(cluster.timeline) exists"
        }
    }

    /// After faults stop: one primary holding the lock, every other member a streaming replica of it.
    func convergenceProblem() async -> String? {
        guard let cluster = try? await observer.readCluster() else { return "store unreadable" }
        guard let leaderName = cluster.leader?.name, let leader = node(leaderName) else { return "no leader key" }
        guard leader.postgres.isPrimary else { return "the leader \(leaderName) is not running as primary" }
        for node in nodes where node !== leader && node.agentAlive {
            let pg = node.postgres
            guard pg.running, pg.role == .replica, pg.following == leaderName, !pg.diverged(from: leader.postgres) else {
                return "\(node.name) is not a streaming replica of \(leaderName) (running \(pg.running), role \(pg.role), following \(pg.following ?? "-"), tl \(pg.timeline) vs \(leader.postgres.timeline))"
            }
        }
        return nil
    }
}
