import Foundation
import Logging
import VigilAPI
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

/// The imperative shell around `HAEngine`: observe (store, PostgreSQL, peers when asked) →
/// decide → carry out the actions, once per `loop_wait` or at once when woken by the store's
/// watch, a REST request or the postmaster's exit.
actor HALoop {
    var setup: AgentSetup
    let store: EtcdStore
    let instance: PostgresInstance
    let probe: PeerProbe
    let box: SnapshotBox
    let wakeup: Wakeup
    var logger: Logger
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant

    /// The cluster-wide settings in force: `bootstrap.dcs` until the `config` key exists.
    var dynamic: DynamicConfig
    var settings: EngineSettings
    var configVersion: Int64?
    var reportedBadConfig = false

    var lock = LockState()
    /// The member this node's PostgreSQL was last pointed at, and since when (the engine gives a
    /// replica that was just pointed somewhere a moment to start streaming).
    var following: String? {
        didSet { followingSince = following == nil ? nil : now }
    }
    var followingSince: Duration?
    var lastState: PostgresStatus.State?
    var stateSince: Duration = .zero
    var lastCluster: ClusterState?
    var lastClusterReadAt: ContinuousClock.Instant?
    var lastSummary: String?
    /// The leader's member entry from the last view that had one.
    var lastLeader: Member?
    var lastRole: PostgresStatus.Role?
    /// Set while a running PostgreSQL does not answer (so the warning is logged once).
    var warnedUnanswering = false
    /// The system identifier the running server last reported.
    var lastSystemID: String?
    /// A gate (acquire, initialize) failed with a store error in this cycle.
    var storeFailedGate = false
    /// This cycle started, stopped, promoted, demoted or re-pointed PostgreSQL.
    var changedPostgres = false
    var storeDownSince: ContinuousClock.Instant?

    var stopRequested = false
    var reloadRequested = false
    var pending: [PendingOperation] = []
    var scheduledRestart: (request: RestartRequest, at: Double)?
    let configPath: String
    /// Set when the agent must exit with an error (system ID mismatch, failed bootstrap, duplicate name).
    var fatal: String?
    let onStatus: @Sendable (String) -> Void

    init(configPath: String, setup: AgentSetup, store: EtcdStore, instance: PostgresInstance, probe: PeerProbe, box: SnapshotBox,
         wakeup: Wakeup, logger: Logger, onStatus: @escaping @Sendable (String) -> Void) {
        self.configPath = configPath
        self.setup = setup
        self.store = store
        self.instance = instance
        self.probe = probe
        self.box = box
        self.wakeup = wakeup
        self.logger = logger
        self.onStatus = onStatus
        started = clock.now
        dynamic = setup.configuration.bootstrap.dcs
        settings = dynamic.engineSettings
    }

    var now: Duration { clock.now - started }
    /// How long this cycle's queries to the local PostgreSQL may take.
    var queryTimeout: Duration { .seconds(min(5, max(1, settings.timings.retryTimeout))) }
    var me: String { setup.identity.name }

    func requestStop() {
        stopRequested = true
        wakeup.signal()
    }

    /// Runs cycles until asked to stop (or a fatal condition), then shuts down. Returns the
    /// fatal reason, if any.
    func runCycles() async -> String? {
        var lastCycle = clock.now
        while !stopRequested && fatal == nil {
            let began = clock.now
            await cycle()
            let took = clock.now - began
            box.update { $0.cycles.record(took.inSeconds) }
            if stopRequested || fatal != nil { break }
            // After PostgreSQL changed role or upstream, look again soon: a walreceiver connects
            // a moment after the start, and the REST API and member key should say so then,
            // not a loop_wait later.
            let settle = changedPostgres && settings.timings.loopWait > 2
            changedPostgres = false
            let next = settle ? clock.now + .seconds(2) : began + .seconds(settings.timings.loopWait)
            box.update { $0.nextRun = next }
            if clock.now < next {
                await wakeup.wait(upTo: next - clock.now)
            } else {
                logger.warning("Loop time exceeded, rescheduling immediately")
            }
            // Wake-ups come in bursts (our own writes are watched too): keep cycles apart a little.
            let gap = clock.now - lastCycle
            if gap < .milliseconds(50) { try? await Task.sleep(for: .milliseconds(50) - gap) }
            lastCycle = clock.now
        }
        return fatal
    }

    // MARK: One cycle

    func cycle() async {
        storeFailedGate = false
        await runOperations()
        var peers: [PeerStatus]?
        var observation = await observe(peers: nil)
        // A member the store does not list yet is published before anything long runs (a
        // rejoining replica may wait in recovery for WAL that the primary streams only through
        // the slot it creates for listed members), as Patroni's touch_member does.
        if let cluster = observation.cluster, cluster.member(named: me) == nil {
            await publishMember(observation, extendingLease: observation.memberWriteMayExtendLease(lock: lock))
        }
        for _ in 0..<4 {
            let decision = HAEngine.decide(observation)
            report(decision)
            var again = false
            for action in decision.actions {
                if case .probePeers = action {
                    // The last leader too, even when its member key has lapsed: a primary
                    // that is still alive must stop the race.
                    var members = observation.clusterMembers
                    if let lastLeader, !members.contains(where: { $0.name == lastLeader.name }) { members.append(lastLeader) }
                    let answers = await probe.statuses(of: members, except: me)
                    peers = answers
                    let described = answers.map { peer in
                        peer.reachable ? "\(peer.name) (\(peer.inRecovery ? "replica" : "primary"), wal \(peer.walPosition))"
                            : "\(peer.name) (no answer)"
                    }
                    logger.info("peers: \(described.joined(separator: ", "))")
                    again = true
                    break
                }
                let done = action.mayOutlastTTL ? await keepingMemberAlive { await perform(action, observation) }
                    : await perform(action, observation)
                if done && action.changesPostgres { changedPostgres = true }
                guard done else {
                    // A lost gate (race, lock) is decided again at once with what was learned;
                    // a failed operation waits for the next cycle rather than spinning.
                    again = action.isGate
                    break
                }
                if fatal != nil { return }
            }
            guard again, !stopRequested else { break }
            observation = await observe(peers: peers)
            if storeFailedGate { observation.store = .unreachable }
        }
        // What the actions changed (a promotion, a new lock) is served at once, not a cycle later.
        // PostgreSQL is asked again only when an action changed it: a server that did not answer
        // is not waited for twice in one cycle, and an idle cycle costs one round of queries.
        refreshSnapshot(changedPostgres ? await instance.observe(timeout: queryTimeout) : observation.postgres.status)
        await publishMember(observation, extendingLease: observation.memberWriteMayExtendLease(lock: lock))
    }

    /// Runs `work` while this member's lease (and so its member key) is kept alive, so a clone
    /// or a rewind longer than `ttl` does not take the member out of the store. The store never
    /// extends a lease that carries the leader key (only a cycle that saw PostgreSQL healthy
    /// renews that one).
    func keepingMemberAlive<T: Sendable>(_ work: () async -> T) async -> T {
        let store = self.store
        let every = Duration.seconds(max(1, settings.timings.ttl / 3))
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: every)
                    if Task.isCancelled { break }
                    _ = try? await store.keepMemberAlive()
                }
            }
            let result = await work()
            group.cancelAll()
            return result
        }
    }

    func report(_ decision: Decision) {
        if decision.actions.contains(.promote) || decision.actions.contains(where: { if case .demote = $0 { true } else { false } }) {
            box.update { $0.roleChanges[decision.reason.rawValue, default: 0] += 1 }
        }
        // Patroni logs its summary every cycle; so does Vigil, at info, with the reason code.
        logger.info("\(decision.summary)", metadata: ["reason": "\(decision.reason.rawValue)"])
        if decision.summary != lastSummary { onStatus(decision.summary) }
        lastSummary = decision.summary
    }

    // MARK: Observe

    func observe(peers: [PeerStatus]?) async -> Observation {
        var view = StoreView.unreachable
        do {
            let cluster = try await store.readCluster()
            view = .reachable(cluster)
            if cluster.leader?.name != me, lock.lastConfirmed != nil {
                // Someone else holds the key: this member is not the leader, whatever it last renewed.
                lock = LockState()
            }
            if let leader = cluster.leaderMember { lastLeader = leader }
            lastCluster = cluster
            lastClusterReadAt = clock.now
            if storeDownSince != nil { logger.notice("the store answers again") }
            storeDownSince = nil
            await apply(cluster)
        } catch {
            if storeDownSince == nil {
                storeDownSince = clock.now
                logger.error("cannot read the cluster from the store: \(error)")
            }
        }
        let asked = clock.now
        var status = await instance.observe(timeout: queryTimeout)
        if status.state == .running, status.role == nil, clock.now - asked < queryTimeout / 2 {
            // Failed at once rather than timing out: a dropped session, not a hung server. Once more.
            status = await instance.observe(timeout: queryTimeout)
        }
        if status.state != lastState {
            lastState = status.state
            stateSince = now
        }
        var directory = LocalPostgres.DataDirectory.empty
        var busy: String?
        let answering = status.state != .running || status.role != nil
        if !answering && !warnedUnanswering {
            logger.warning("PostgreSQL runs but did not answer within \(queryTimeout): treated as unhealthy until it does")
        }
        warnedUnanswering = !answering
        if instance.hasDataDirectory {
            // Running but not answering queries: assume the role it last had, so an overloaded
            // primary is still treated as one (and demoted when it must be).
            if status.state != .running || status.role == nil { status.role = lastRole ?? instance.dataDirectoryRole }
            if status.state == .running, let role = status.role { lastRole = role }
            if status.state != .running { lastRole = nil }
            if let sysid = status.systemIdentifier {
                lastSystemID = sysid
                directory = .initialized(systemID: sysid)
            } else if !answering, let sysid = lastSystemID {
                // No pg_controldata (up to 30 s) for a server that runs but does not answer.
                directory = .initialized(systemID: sysid)
            } else if let sysid = try? await instance.systemIdentifier() {
                directory = .initialized(systemID: sysid)
            } else {
                busy = "reading the data directory"
            }
        }
        refreshSnapshot(status)
        return Observation(now: now, wallClock: Date().timeIntervalSince1970, me: setup.identity, settings: settings,
                           store: view,
                           postgres: LocalPostgres(dataDirectory: directory, status: status, following: following,
                                                   followingSince: followingSince, stateSince: stateSince, busyWith: busy,
                                                   answering: answering),
                           lock: lock, peers: peers)
    }

    /// Takes the store's `config` key into force when it changed. An unreadable key keeps the
    /// last good settings (and is reported once).
    func apply(_ cluster: ClusterState) async {
        guard let config = cluster.config else {
            if let problem = cluster.problems.first(where: { $0.key.hasSuffix("config") }) {
                if !reportedBadConfig {
                    logger.error("ignoring the store's config key, keeping the last good settings: \(problem)")
                }
                reportedBadConfig = true
            }
            return
        }
        reportedBadConfig = false
        guard config.version != configVersion else { return }
        configVersion = config.version
        let (dynamic, diagnostics) = DynamicConfig.read(json: config.value, key: store.layout.config)
        for diagnostic in diagnostics {
            if diagnostic.severity == .error { logger.error("\(diagnostic)") } else { logger.warning("\(diagnostic)") }
        }
        let previous = settings
        self.dynamic = dynamic
        settings = dynamic.engineSettings
        if settings.timings != previous.timings {
            // The lease in force keeps its TTL until the next renewal replaces it (LockState.leaseTTL).
            await store.setTTL(settings.timings.ttl)
            await store.setRetryTimeout(settings.timings.retryTimeout)
            logger.notice("timings now ttl \(settings.timings.ttl), loop_wait \(settings.timings.loopWait), retry_timeout \(settings.timings.retryTimeout)")
            for adjustment in dynamic.timings.effective().adjustments {
                logger.warning("\(store.layout.config): \(adjustment)")
            }
        }
        await applyParameters(dynamic)
        if settings.paused != previous.paused {
            logger.notice(settings.paused ? "the cluster is paused: no automatic failover" : "the cluster is resumed")
        }
    }
}

extension HALoop {
    /// The cluster-wide PostgreSQL parameters: reloaded at once; those that need a restart
    /// are reported (and shown as pending_restart) until an operator restarts the node.
    func applyParameters(_ dynamic: DynamicConfig) async {
        do {
            let resolved = try InstanceSettings.resolve(setup.configuration, dynamic: dynamic)
            let pending = try await instance.applyParameters(resolved.parameters, commandLine: resolved.commandLineParameters)
            if !pending.isEmpty {
                logger.notice("PostgreSQL needs a restart for the new value of: \(pending.joined(separator: ", "))")
            }
        } catch {
            logger.error("applying the cluster's postgresql parameters failed: \(error)")
        }
    }
}

extension Observation {
    var cluster: ClusterState? {
        if case let .reachable(cluster) = store { return cluster }
        return nil
    }

    var clusterMembers: [Member] { cluster?.members ?? [] }
}
