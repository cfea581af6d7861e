/// The HA loop's whole memory and every decision it takes, as a value: the shell (`HALoop`,
/// or the simulation driving the same `HALoop`) looks at the world, hands what it saw to
/// `observed(_:)`, carries out the one step it gets back, hands the result to
/// `completed(_:_:at:)`, and so on until the machine says the cycle is over. The machine never
/// performs anything and never reads a clock (time comes in with every event), in the manner
/// of PostgresNIO's `ConnectionStateMachine`.
///
/// A cycle: look, let `HAEngine` decide, carry the decision's actions out in order (the coarse
/// ones expanded here into the shell's steps: a demotion's escalation ladder, the status and
/// history writes, the peer probe), decide again at once after a lost gate or a probe (at most
/// four decisions a cycle), then publish the member key and name the next cycle's time.
public struct HAMachine: Sendable {
    /// The proof that this member holds the leader key, and until when.
    public internal(set) var lock = LockState()
    /// The member this node's PostgreSQL was last pointed at, and since when (a replica that was
    /// just pointed somewhere gets a moment to start streaming).
    public internal(set) var following: String?
    var followingSince: Duration?
    /// Whether the data directory ran (or lies stopped) as a primary since a timeline check, a
    /// rejoin or a copy last put it within a leader's history (`LocalPostgres.mayHaveDiverged`).
    /// An agent that just started does not know what its directory did before it (a primary
    /// whose agent was restarted while cut off), so it checks once, as Patroni does.
    var mayHaveDiverged = true
    var lastState: PostgresStatus.State?
    var stateSince: Duration = .zero
    /// The role a running server had when it last answered (a silent one keeps it).
    var lastRole: PostgresStatus.Role?
    /// The system identifier the server last reported (pg_controldata is not run on a silent one).
    var lastSystemID: String?
    /// The members of the last view that had a leader (Patroni's old_cluster): probed in a race
    /// even after their member keys lapsed (an outage of the store for everyone), since a primary
    /// that is still alive, or a standby with commits the race must not lose, must stop it.
    var lastLockedMembers: [Member] = []
    /// The callbacks the local configuration names a script for (`postgresql.callbacks`).
    public var callbacks: Set<Callback.Event>
    /// The settings of the last look.
    public internal(set) var settings: EngineSettings
    /// The engine's input of the last look, memory included.
    public internal(set) var observation: Observation?
    /// A restart an operator scheduled, and when it is due (wall-clock seconds).
    public internal(set) var scheduledRestart: (request: RestartRequest, at: Double)?

    /// What the leader remembers about synchronous replication between cycles.
    public internal(set) var sync = SyncMemory()
    /// What the fence was last told and acknowledged.
    public internal(set) var fence = FenceOrder.disarm
    /// Why the watchdog the fence was last asked for could not be started (nil: it runs, or
    /// none was asked for since the section last changed).
    public internal(set) var watchdogFailure: String?
    /// While leading: when each member's slot was last seen with its member (`retain_slots`).
    public internal(set) var slotRetention = SlotRetention()

    var cycle: Cycle?

    public init(settings: EngineSettings = EngineSettings(), callbacks: Set<Callback.Event> = []) {
        self.settings = settings
        self.callbacks = callbacks
    }

    /// Until when this member may present itself as the primary (the health checks' answer):
    /// nil while a demotion is under way or without a valid lock.
    public var leaderUntil: Duration? {
        if cycle?.demotion != nil || cycle?.shutdown == true { return nil }
        return lock.validUntil(ttl: settings.ttl)
    }

    /// Whether a cycle is under way (the shell runs operator requests only between cycles).
    public var inCycle: Bool { cycle != nil }

    // MARK: Events

    /// A new look at the world: the first of a cycle, or the one the machine asked for.
    public mutating func observed(_ sighting: Sighting) -> Next {
        if cycle == nil {
            cycle = Cycle(began: sighting.began ?? sighting.now)
            if case let .reachable(cluster) = sighting.store { cycle!.syncVersion = cluster.sync?.version }
        }
        // A query that failed at once was a dropped session, not a hung server: look once more.
        if !sighting.answering, sighting.queryFailedAtOnce, !cycle!.retriedQuery {
            cycle!.retriedQuery = true
            return Next(.observe)
        }
        var o = remember(sighting)
        if cycle!.storeFailedGate { o.store = .unreachable }
        o.peers = cycle!.peers
        observation = o
        cycle!.rounds += 1
        // A look that came too late (a stalled agent, a slow store or PostgreSQL) decides nothing.
        if let stop = stopAfterDeadline(at: sighting.now) { return stop }
        let decision = HAEngine.decide(o)
        cycle!.plan = decision.actions
        cycle!.queue = []
        // A member the store does not list yet is published before anything long runs (a
        // rejoining replica may wait in recovery for WAL that the primary streams only through
        // the slot it creates for listed members), as Patroni's touch_member does.
        if cycle!.rounds == 1, let cluster = o.cluster, cluster.member(named: o.me.name) == nil {
            cycle!.queue = [.optional(.publishMember(extendingLease: o.memberWriteMayExtendLease(lock: lock)))]
        }
        var next = advance(at: sighting.now)
        if next.decided == nil { next.decided = decision }
        return next
    }

    /// How the step last handed out went.
    public mutating func completed(_ action: Action, _ result: ActionResult, at now: Duration) -> Next {
        guard var c = cycle, let step = c.inFlight, step.action == action else {
            // Not the step handed out (a shell bug): nothing is assumed; the cycle ends.
            cycle = nil
            return Next(.finish(nextCycleAt: now))
        }
        c.inFlight = nil
        cycle = c
        if result.succeeded, action.changesPostgres { cycle!.changedPostgres = true }
        if case let .fence(order) = action {
            // A fence armed without the watchdog it was asked for is armed all the same.
            if case .watchdogFailed = result { fence = order } else if result.succeeded { fence = order }
            noteWatchdog(order, result)
            if let refusal = refusalWithoutWatchdog(order, result, at: now) { return refusal }
        }
        // A step that returned past the deadline: nothing else runs before PostgreSQL stops (a
        // confirmation moves the deadline first).
        if case .confirmed = result {} else if let stop = stopAfterDeadline(at: now) { return stop }
        if let callback = callback(after: action, result) { cycle!.callbacks.append(callback) }
        if cycle!.demotion != nil, let next = demotionStep(action, result, at: now) { return next }
        if cycle!.shutdown { return shutdownStep(action, result, at: now) }
        switch (action, result) {
        case let (.askPeers, .peers(answers)):
            cycle!.peers = answers
            return Next(.observe)
        case let (.acquireLeader, .confirmed(sent)), let (.renewLeader, .confirmed(sent)):
            lock = LockState(lastConfirmed: sent, leaseTTL: settings.ttl)
            // A leader carries on from the retained slots in the store (SlotRetention.update).
            if action == .acquireLeader { slotRetention = SlotRetention() }
            // The fence's deadline follows every confirmation at once, before anything the
            // lock allows (a promotion, a start as primary) can run.
            if let order = fenceAfterConfirmation() { cycle!.queue.insert(.optional(.fence(order)), at: 0) }
        case (.renewLeader, _):
            // No answer is no proof: a leader that cannot renew steps down (as Patroni does).
            lock.lost = true
        case (.releaseLeader, _):
            lock = LockState()
        case let (.follow(from), .done):
            point(at: from, now)
        case let (.checkTimeline(leader), .timelineCheck(check)):
            return afterTimelineCheck(check, leader: leader, at: now)
        case let (.createReplica(from), .done), let (.rejoin(from), .done), let (.reinitialize(from), .done):
            // Checked against the leader's timeline (rewound if it had to be) or copied from it.
            point(at: from, now)
            mayHaveDiverged = false
        case let (.startPostgres(role), .done):
            if case let .replica(upstream) = role { point(at: upstream, now) } else { point(at: nil, now) }
        case (.startPostgres(.primary), _):
            // A primary that cannot start must not keep the key: a replica may take over.
            lock = LockState()
            cycle!.plan = []
            cycle!.queue = [.optional(.releaseLeader)]
            return Next(advance(at: now).step,
                        decided: Decision(.primaryStartFailed, "removed leader key after trying and failing to start postgres"))
        case (.promote, .done):
            point(at: nil, now)
            cycle!.promoted = true
            // Should it stop answering before the next look, it is a primary that stopped answering.
            lastRole = .primary
            // The new timeline goes into the history at once: a store that fails before the next
            // cycle must not leave a branch that nobody knows of.
            cycle!.queue.insert(.optional(.refreshPostgres), at: 0)
        case let (.refreshPostgres, .postgres(status)):
            if status.state == .running, let role = status.role { lastRole = role }
            if cycle!.promoted, !cycle!.recordedPromotion, status.state == .running, status.role == .primary,
               let timeline = status.timeline, timeline > (observation?.cluster?.timeline ?? 0) {
                cycle!.recordedPromotion = true
                cycle!.queue.insert(.optional(.readTimelineSwitch(timeline: timeline)), at: 0)
            }
        case let (.readTimelineSwitch(timeline), .timelineSwitch(entry)):
            if let history = historyWithSwitch(entry, timeline: timeline) {
                // Part of the engine's plan (`recordHistory`) it is essential; after a promotion, not.
                let step: Queued = cycle!.recordedPromotion ? .optional(.writeHistory(history)) : .essential(.writeHistory(history))
                cycle!.queue.insert(step, at: 0)
            }
        case let (.bootstrap, .failed(why)):
            // Let another member try: the initialize key goes, and this agent stops (as Patroni does).
            cycle!.plan = []
            cycle!.queue = [.optional(.cancelInitialization), .essential(.exit("failed to bootstrap the cluster: \(why)"))]
            return Next(advance(at: now).step, decided: Decision(.bootstrapFailed, "failed to bootstrap the cluster: \(why)"))
        case let (.writeSync, .syncWritten(version)):
            cycle!.syncVersion = version
        case (.writeSync, .refused) where cycle!.preparingPromotion:
            cycle!.plan = []
            cycle!.queue = []
            return Next(advance(at: now).step,
                        decided: Decision(.promotionPostponed,
                                          "Postponing promotion because synchronous replication state was updated by somebody else"))
        case (.exit, _):
            cycle!.exited = true
            cycle!.plan = []
            cycle!.queue = []
        default:
            break
        }
        guard !result.succeeded, step.essential else { return advance(at: now) }
        // A failed step ends the decision. A lost gate (race, lock) is decided again at once with
        // what was learned; a gate the store did not answer makes the rest of the cycle see the
        // store as unreachable, as Patroni treats a DCS error. A failed operation waits for the
        // next cycle rather than spinning.
        cycle!.plan = []
        cycle!.queue = []
        if action.isGate {
            if case .noAnswer = result, action != .renewLeader { cycle!.storeFailedGate = true }
            if cycle!.rounds < Self.decisionsPerCycle { return Next(.observe) }
        }
        return advance(at: now)
    }

    /// At most this many decisions in one cycle (a race re-decided after a probe, a lost gate…).
    static let decisionsPerCycle = 4

    // MARK: Handing out steps

    mutating func advance(at now: Duration) -> Next {
        while true {
            guard let c = cycle else { return Next(.finish(nextCycleAt: now)) }
            // A callback goes out right after the step that called for it, whatever comes next.
            if let callback = c.callbacks.first {
                cycle!.callbacks.removeFirst()
                cycle!.inFlight = .optional(.runCallback(callback))
                return Next(.perform(.runCallback(callback)))
            }
            if var step = c.queue.first {
                cycle!.queue.removeFirst()
                // A sync key write compares against the version last read or written this cycle.
                if case let .writeSync(state, _) = step.action {
                    step = Queued(action: .writeSync(state, expectedVersion: c.syncVersion), essential: step.essential)
                }
                cycle!.inFlight = step
                return Next(.perform(step.action))
            }
            if c.finishing { return finish(at: now) }
            guard let action = c.plan.first else {
                cycle!.finishing = true
                cycle!.queue = finishingSteps()
                continue
            }
            cycle!.plan.removeFirst()
            if let refusal = expand(action, at: now) { return refusal }
        }
    }

    /// Queues the shell's steps for one of the engine's actions. A decision when the action may
    /// not go ahead (the plan is then dropped).
    mutating func expand(_ action: Action, at now: Duration) -> Next? {
        guard let o = observation else { return nil }
        switch action {
        case .probePeers:
            var members = o.clusterMembers
            for known in lastLockedMembers where !members.contains(where: { $0.name == known.name }) { members.append(known) }
            cycle!.queue = [.essential(.askPeers(members.filter { $0.name != o.me.name }))]
        case let .demote(mode):
            startDemotion(mode)
        case .updateStatus:
            guard o.postgres.isRunningPrimary || cycle!.promoted else { return nil }
            let optime = o.postgres.walPosition
            guard let cluster = o.cluster else { return nil }
            // After a promotion earlier in this decision (`o` was taken before it) the replicas'
            // slots are created now, not a loop_wait later: they cannot stream without.
            let facts = slotFacts(o, cluster, leading: true)
            let existing = o.postgres.status.slots
            cycle!.queue += SlotPlan.changes(facts, existing: existing).map { .optional(.changeSlot($0)) }
            let published = SlotPlan.published(facts, existing: existing, walPosition: optime)
            let retained = slotRetention.update(published: published.map(\.name), me: o.me.name, cluster: cluster,
                                                permanent: settings.slots.permanent.map(\.name),
                                                ttl: settings.slots.memberSlotsTTL, at: now)
            let record = StatusRecord(optime: optime, slots: published, retainSlots: retained)
            if cluster.status != record { cycle!.queue.append(.optional(.writeStatus(record))) }
        case .recordHistory:
            guard let timeline = o.postgres.status.timeline else { return nil }
            cycle!.queue = [.essential(.readTimelineSwitch(timeline: timeline))]
        case .manageSync:
            guard o.postgres.isRunningPrimary, o.postgres.answering, let cluster = o.cluster else { return nil }
            let facts = SyncReplication.Facts(me: o.me.name, settings: settings.sync, loopWait: .seconds(settings.timings.loopWait),
                                              cluster: cluster, status: o.postgres.status)
            queueSyncSteps(SyncReplication.manage(facts, memory: &sync, now: now), status: o.postgres.status)
        case .prepareSync:
            cycle!.preparingPromotion = true
            queueSyncSteps(SyncReplication.beforePromotion(me: o.me.name, settings: settings.sync, key: o.cluster?.sync?.value,
                                                  managed: o.postgres.status.syncNamesManaged),
                  status: nil)
        case .promote:
            // The lock must be ours right now: acquired (or renewed) earlier in this decision.
            // …and some way from its deadline: the fence stops a primary at the deadline.
            guard lock.isValid(at: now, ttl: settings.ttl), stopBy.map({ now < $0 }) ?? true else {
                cycle!.plan = []
                return Next(advance(at: now).step,
                            decided: Decision(.lockUnconfirmed, "not promoting: the leader key is not confirmed as ours"))
            }
            cycle!.queue = [.essential(.promote)]
        default:
            cycle!.queue = [.essential(action)]
        }
        return nil
    }

    /// The end of a cycle: PostgreSQL asked again only when a step changed it (a server that did
    /// not answer is not waited for twice in one cycle), then the member key.
    func finishingSteps() -> [Queued] {
        guard let c = cycle, !c.exited, let o = observation else { return [] }
        var steps: [Queued] = []
        if let order = fenceAtCycleEnd() { steps.append(.optional(.fence(order))) }
        if c.changedPostgres { steps.append(.optional(.refreshPostgres)) }
        if o.cluster != nil {
            // Written even when unchanged: the write is what keeps a replica's lease alive.
            steps.append(.optional(.publishMember(extendingLease: o.memberWriteMayExtendLease(lock: lock))))
        }
        // A replica keeps copies of the slots the next primary needs (Patroni 4's rule), advanced
        // to where the leader's are; after its member key (which keeps its lease), and not in a
        // cycle that changed PostgreSQL (looked at again soon).
        if let cluster = o.cluster, o.postgres.isRunningReplica, o.postgres.answering, !c.changedPostgres,
           cluster.leader?.name != o.me.name {
            steps += SlotPlan.changes(slotFacts(o, cluster, leading: false), existing: o.postgres.status.slots)
                .map { .optional(.changeSlot($0)) }
        }
        return steps
    }

    func slotFacts(_ o: Observation, _ cluster: ClusterState, leading: Bool) -> SlotPlan.Facts {
        SlotPlan.Facts(me: o.me.name, leading: leading, nofailover: o.me.nofailover, cluster: cluster,
                       settings: settings.slots, paused: settings.paused)
    }

    mutating func finish(at now: Duration) -> Next {
        let c = cycle!
        cycle = nil
        // After PostgreSQL changed role or upstream, and while a replica pointed at its leader
        // does not stream yet, look again soon: a walreceiver connects a moment after the start
        // (or retries every 5 s), and the REST API and member key should say so then, not a
        // loop_wait later.
        let loopWait = Duration.seconds(settings.timings.loopWait)
        let awaitingStream = observation.map {
            $0.postgres.isRunningReplica && $0.postgres.following != nil && $0.postgres.status.replicationState != "streaming"
        } ?? false
        if c.changedPostgres || awaitingStream || c.awaitingSync, loopWait > Self.settleDelay {
            return Next(.finish(nextCycleAt: now + Self.settleDelay))
        }
        return Next(.finish(nextCycleAt: c.began + loopWait))
    }

    /// How soon a cycle that changed PostgreSQL is followed by another.
    static let settleDelay = Duration.seconds(2)

    /// Queues synchronous replication's steps: every change is essential (a write that loses its
    /// compare-and-swap, or a reload that fails, ends the decision before the next change could
    /// break the order). A value PostgreSQL already runs with is not set again.
    mutating func queueSyncSteps(_ steps: [SyncStep], status: PostgresStatus?) {
        var queued: [Queued] = []
        for step in steps {
            switch step {
            case let .writeKey(state):
                queued.append(.essential(.writeSync(state, expectedVersion: nil)))
            case let .setNames(value):
                if let status, status.syncNamesManaged, (status.synchronousStandbyNames ?? "") == (value ?? "") { continue }
                queued.append(.essential(.setSyncStandbyNames(.managed(value))))
            case .restoreConfigured:
                queued.append(.optional(.setSyncStandbyNames(.configured)))
            case .awaitConfirmation:
                cycle!.awaitingSync = true
            }
        }
        cycle!.queue = queued
    }

    /// A former primary's check against `leader`'s timeline: within its history, re-pointed as it
    /// runs (and no longer suspect); past it, or not shown by the running server, rejoined from
    /// the stopped directory; the leader unable to tell yet, re-pointed (should it then not
    /// stream, the grace rule of `HAEngine.followerCycle` rejoins it) and checked again at the
    /// next change of leader.
    mutating func afterTimelineCheck(_ check: TimelineDivergence.Check, leader: String, at now: Duration) -> Next {
        let step: Action, decision: Decision
        switch check {
        case .withinLeaderHistory:
            mayHaveDiverged = false
            step = .follow(leader: leader)
            decision = Decision(.changingLeader, "following new leader (\(leader)) without a restart: this node's WAL does not go past its timeline")
        case let .leaderCannotTell(why):
            step = .follow(leader: leader)
            decision = Decision(.changingLeader, "following new leader (\(leader)): its timeline could not be read (\(why))")
        case let .needsStoppedCheck(why):
            step = .rejoin(leader: leader)
            decision = Decision(.rejoiningLeader, "rejoining new leader (\(leader)): \(why)")
        }
        cycle!.queue.insert(.essential(step), at: 0)
        return Next(advance(at: now).step, decided: decision)
    }

    mutating func point(at member: String?, _ now: Duration) {
        following = member
        followingSince = member == nil ? nil : now
    }
}

extension HAMachine {
    /// The cycle under way.
    struct Cycle: Sendable {
        let began: Duration
        var rounds = 0
        var peers: [PeerStatus]?
        /// A gate got no answer from the store: the rest of the cycle sees it unreachable.
        var storeFailedGate = false
        var changedPostgres = false
        var retriedQuery = false
        var promoted = false
        /// A demotion ended this cycle (PostgreSQL was stopped and started again as a replica).
        var demoted = false
        /// The promotion's new timeline was asked for, to be recorded in the history at once.
        var recordedPromotion = false
        /// The engine's actions not yet started.
        var plan: [Action] = []
        /// The shell's steps of the action under way.
        var queue: [Queued] = []
        var inFlight: Queued?
        /// Callbacks the last steps called for, handed out before anything else.
        var callbacks: [Callback] = []
        var demotion: Demotion?
        var finishing = false
        var exited = false
        var shutdown = false
        /// The `sync` key's version as last read or written this cycle.
        var syncVersion: Int64?
        /// Standbys were just listed in synchronous_standby_names: look again soon to confirm them.
        var awaitingSync = false
        /// The sync steps under way prepare a promotion (their failure postpones it).
        var preparingPromotion = false

        init(began: Duration) { self.began = began }
    }

    /// A step and whether its failure ends the decision.
    struct Queued: Sendable, Equatable {
        let action: Action
        let essential: Bool

        static func essential(_ action: Action) -> Queued { Queued(action: action, essential: true) }
        static func optional(_ action: Action) -> Queued { Queued(action: action, essential: false) }
    }
}

extension Observation {
    public var cluster: ClusterState? {
        if case let .reachable(cluster) = store { return cluster }
        return nil
    }

    public var clusterMembers: [Member] { cluster?.members ?? [] }
}
