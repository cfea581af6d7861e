import Foundation
import Logging
import VigilAPI
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

/// The imperative shell around `HAMachine`: it looks at the world (store, PostgreSQL, the
/// files), hands what it saw to the machine, carries out the one step it gets back with a
/// deadline, reports the result, and so on until the machine ends the cycle; then it sleeps
/// until the time the machine named, or until woken by the store's watch, a REST request or
/// the postmaster's exit. It decides nothing about HA: its branches are about performing a step
/// or gathering a look. The simulation runs this very type over an in-memory store, simulated
/// PostgreSQL and a manual clock.
public actor HALoop {
    var setup: AgentSetup
    let store: EtcdStore
    let instance: any PostgresControl
    let probe: any PeerProbing
    let box: SnapshotBox
    let wakeup: Wakeup
    var logger: Logger
    let clock: StoreClock

    /// The cluster-wide settings in force: `bootstrap.dcs` until the `config` key exists.
    var dynamic: DynamicConfig
    var settings: EngineSettings
    var configVersion: Int64?
    var reportedBadConfig = false

    /// Every piece of HA memory, and every decision.
    public internal(set) var machine: HAMachine
    /// The machine's hold on the leader key (without copying the machine out of the actor).
    public var lock: LockState { machine.lock }
    /// The last view of the store that could be read, and when (for the REST API).
    var lastCluster: ClusterState?
    var lastClusterReadAt: Duration?
    var storeDownSince: Duration?
    /// PostgreSQL as last asked, for the REST API and the member key.
    var lastStatus = PostgresStatus(state: .stopped)
    /// Whether PostgreSQL answered when last asked.
    var postgresAnswering = true
    var lastSummary: String?
    /// Set while a running PostgreSQL does not answer (so the warning is logged once).
    var warnedUnanswering = false
    /// When the machine wants the next cycle.
    public internal(set) var nextCycleAt: Duration = .zero

    /// Set by a `releaseSync` step: the member key says nosync until the step after it is done.
    var releasingSync = false
    var stopRequested = false
    var reloadRequested = false
    var pending: [PendingOperation] = []
    let configPath: String
    /// Set when the agent must exit with an error (system ID mismatch, failed bootstrap, duplicate name).
    public internal(set) var fatal: String?
    let onStatus: @Sendable (String) -> Void
    let callbacks: any CallbackRunning
    /// The fence outside this process that stops a primary's PostgreSQL when the lease is not
    /// renewed in time (SimFence in the simulation).
    let fence: any Fencing

    public init(configPath: String, setup: AgentSetup, store: EtcdStore, instance: any PostgresControl,
                probe: any PeerProbing, box: SnapshotBox, wakeup: Wakeup, clock: StoreClock = .system(), logger: Logger,
                callbacks: any CallbackRunning = NoCallbacks(), callbackEvents: Set<Callback.Event> = [],
                fence: any Fencing = NoFence(), onStatus: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configPath = configPath
        self.setup = setup
        self.store = store
        self.instance = instance
        self.probe = probe
        self.box = box
        self.wakeup = wakeup
        self.clock = clock
        self.logger = logger
        self.onStatus = onStatus
        self.callbacks = callbacks
        self.fence = fence
        dynamic = setup.configuration.bootstrap.dcs
        settings = Self.engineSettings(dynamic, setup)
        machine = HAMachine(settings: settings, callbacks: callbackEvents)
    }

    var now: Duration { clock.now }

    /// The cluster-wide settings with this node's own parts: its `watchdog` section, and whether
    /// its PostgreSQL may be rewound.
    static func engineSettings(_ dynamic: DynamicConfig, _ setup: AgentSetup) -> EngineSettings {
        var settings = dynamic.engineSettings
        settings.watchdog = setup.configuration.watchdog.policy
        settings.usePgRewind = setup.instance.usePgRewind
        return settings
    }
    /// How long this cycle's queries to the local PostgreSQL may take.
    var queryTimeout: Duration { .seconds(min(5, max(1, settings.timings.retryTimeout))) }

    /// A query to the local PostgreSQL ends by the machine's end for calls too
    /// (HAMachine.callsEnd), so a hung server cannot keep the loop from stopping it in time.
    var queryTimeoutBeforeDeadline: Duration {
        guard let end = machine.callsEnd(at: now) else { return queryTimeout }
        return max(.milliseconds(100), min(queryTimeout, end - now))
    }

    /// Hands the store the machine's end for calls before every look and step: a renewal or a
    /// read that hangs is cut short at the primary's deadline, and the machine, handed the
    /// failure there, stops PostgreSQL itself instead of after a whole retry_timeout (the
    /// fence outside acts at the same moment whatever this process does).
    func endCallsByDeadline() async {
        await store.endCalls(by: machine.callsEnd(at: now))
    }
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
            await runOperations()
            await cycle()
            box.update { $0.cycles.record((clock.now - began).inSeconds) }
            if stopRequested || fatal != nil { break }
            let next = nextCycleAt
            box.update { [clock] in $0.nextRun = clock.instant(next) }
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

    /// One HA cycle: look, then carry out what the machine asks until it ends the cycle.
    public func cycle() async {
        await drive(await lookAndTell())
    }

    /// A look handed to the machine; the REST API then shows PostgreSQL as the machine sees it
    /// (a silent server with the role it last had).
    func lookAndTell() async -> Next {
        let next = machine.observed(await look())
        if let status = machine.observation?.postgres.status {
            lastStatus = status
            refreshSnapshot(status)
        }
        reportWatchdogHealth()
        return next
    }

    /// Carries out the machine's steps from `next` until it ends the cycle.
    func drive(_ first: Next) async {
        var next = first
        while true {
            if let decision = next.decided { report(decision) }
            // Health checks follow the lock at once (a demotion stops being routable before it stops).
            let leaderUntil = machine.leaderUntil.map { clock.instant($0) }
            box.update { $0.leaderUntil = leaderUntil }
            switch next.step {
            case .observe:
                next = await lookAndTell()
            case let .perform(action):
                await endCallsByDeadline()
                let result = action.mayOutlastTTL ? await keepingMemberAlive { await perform(action) } : await perform(action)
                next = machine.completed(action, result, at: now)
            case let .finish(at):
                nextCycleAt = at
                refreshSnapshot(lastStatus)
                return
            }
        }
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

    // MARK: Look

    /// What the world looks like now: the store (its `config` key taken into force), PostgreSQL
    /// within the query deadline, the data directory's files.
    func look() async -> Sighting {
        let began = now
        var view = StoreView.unreachable
        await endCallsByDeadline()
        do {
            let cluster = try await store.readCluster()
            view = .reachable(cluster)
            lastCluster = cluster
            lastClusterReadAt = now
            if storeDownSince != nil { logger.notice("the store answers again") }
            storeDownSince = nil
            await apply(cluster)
        } catch {
            if storeDownSince == nil {
                storeDownSince = now
                logger.error("cannot read the cluster from the store: \(error)")
            }
        }
        let asked = clock.now
        let timeout = queryTimeoutBeforeDeadline
        let status = await instance.observe(timeout: timeout)
        let answering = status.state != .running || status.role != nil
        postgresAnswering = answering
        if !answering && !warnedUnanswering {
            logger.warning("PostgreSQL runs but did not answer within \(timeout): treated as unhealthy until it does")
        }
        warnedUnanswering = !answering
        var files = Sighting.DataFiles.empty
        if instance.hasDataDirectory {
            // pg_controldata (up to 30 s) only for a server that is stopped or answered.
            var sysid = status.systemIdentifier
            if sysid == nil, answering { sysid = try? await instance.systemIdentifier() }
            files = .present(role: instance.dataDirectoryRole, systemID: sysid)
        }
        lastStatus = status
        refreshSnapshot(status)
        var sighting = Sighting(now: now, wallClock: clock.wallClock, me: setup.identity, settings: settings, store: view,
                                postgres: status, queryFailedAtOnce: !answering && clock.now - asked < timeout / 2,
                                dataDirectory: files)
        sighting.began = began
        // Looked at only where a watchdog is used at all (one access(2) a cycle).
        if settings.watchdog.mode != .off {
            let config = setup.configuration.watchdog
            sighting.watchdogDeviceUsable = config.driverKnown && access(config.device, W_OK) == 0
        }
        return sighting
    }

    /// Says (once) when the machine judges that this node's required watchdog keeps it from
    /// leading, and shows it in /patroni as `watchdog_failed`.
    func reportWatchdogHealth() {
        let failed = machine.observation?.me.watchdogFailed ?? false
        guard box.snapshot().watchdogFailed != failed else { return }
        if failed {
            let why = machine.watchdogFailure
                ?? "\(setup.configuration.watchdog.device) is not writable, its driver is unknown, or ttl less safety_margin leaves no time for a cycle"
            logger.error("watchdog.mode is required but the watchdog cannot be used (\(why)): this node will not become primary")
        }
        box.update { $0.watchdogFailed = failed }
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
        // A value that is wrong or out of range keeps the one in force (and says which key).
        let (dynamic, diagnostics) = DynamicConfig.read(json: config.value, key: store.layout.config, lastGood: self.dynamic)
        for diagnostic in diagnostics {
            if diagnostic.severity == .error {
                let kept = DynamicConfig.unusableValueCodes.contains(diagnostic.code) ? " The value in force is kept." : ""
                logger.error("\(diagnostic.rendered)\(kept)")
            } else {
                logger.warning("\(diagnostic.rendered)")
            }
        }
        let previous = settings
        self.dynamic = dynamic
        settings = Self.engineSettings(dynamic, setup)
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
