/// A primary stepping down: stop PostgreSQL, harder each time it does not go (the mode asked
/// for, then immediate, then SIGKILL of the postmaster and every process it started), give the
/// key up when the mode says so, and start again as a replica with no upstream yet.
extension HAMachine {
    struct Demotion: Sendable, Equatable {
        let mode: DemoteMode
    }

    /// How long a fast stop may take before the immediate one: about a lease, or less when
    /// `primary_stop_timeout` applies (synchronous mode), as in Patroni's demote.
    func fastStopBudget() -> Duration {
        let lease = Duration.seconds(max(5, settings.timings.ttl))
        return settings.primaryStopBudget.map { min($0, lease) } ?? lease
    }
    /// How long an immediate stop may take after a fast one failed.
    static let immediateAfterFastBudget = Duration.seconds(5)

    mutating func startDemotion(_ mode: DemoteMode) {
        cycle!.demotion = Demotion(mode: mode)
        // A switchover's and an offline demotion's replicas should get the shutdown checkpoint;
        // a primary that is unfit or has lost the key stops at once.
        let fast = mode == .graceful || mode == .offline
        cycle!.queue = [.essential(fast ? .stopPostgres(.fast, timeout: fastStopBudget())
                                        : .stopPostgres(.immediate, timeout: HAEngine.immediateStopBudget))]
    }

    /// The demotion's next step after `action`; nil when `action` was not one of its steps.
    mutating func demotionStep(_ action: Action, _ result: ActionResult, at now: Duration) -> Next? {
        guard let demotion = cycle?.demotion else { return nil }
        switch (action, result.succeeded) {
        case (.stopPostgres(.fast, _), false):
            cycle!.queue = [.essential(.stopPostgres(.immediate, timeout: Self.immediateAfterFastBudget))]
            return advance(at: now)
        case (.stopPostgres(.immediate, _), false):
            cycle!.queue = [.essential(.killPostmaster)]
            return advance(at: now)
        case (.killPostmaster, false):
            // Still running: the key is kept (and lapses) rather than handed to a second primary.
            cycle!.demotion = nil
            cycle!.plan = []
            cycle!.queue = []
            return Next(advance(at: now).step,
                        decided: Decision(.demotionFailed, "PostgreSQL did not stop; the leader key is left to expire"))
        case (.stopPostgres, true), (.killPostmaster, true):
            var steps: [Queued] = []
            if demotion.mode == .graceful || demotion.mode == .immediate { steps.append(.optional(.releaseLeader)) }
            // Offline, the lock is kept as proof until it lapses: the store could not be told.
            if demotion.mode != .offline { lock = LockState() }
            point(at: nil, now)
            steps.append(.optional(.startPostgres(.replica(following: nil))))
            cycle!.queue = steps
            return advance(at: now)
        case (.releaseLeader, _):
            lock = LockState()
            return advance(at: now)
        case (.startPostgres, _):
            // Demoted whether or not the replica started: the next cycle starts it.
            cycle!.demotion = nil
            cycle!.demoted = true
            cycle!.changedPostgres = true
            return advance(at: now)
        default:
            return nil
        }
    }
}
