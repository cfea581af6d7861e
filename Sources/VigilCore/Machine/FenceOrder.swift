/// What the fence outside the agent is told. A primary's PostgreSQL is stopped at `until`
/// unless a later renewal of the leader key moves it; a replica's is not guarded.
public enum FenceOrder: Sendable, Equatable {
    /// `watchdog`: the timeout in seconds of the watchdog device the fence keeps alive with
    /// every arm (nil: none). With a device, the fence acts a second before it would fire.
    case arm(until: Duration, watchdog: Int?)
    case disarm

    /// How long before the lease can end the fence acts: its stop takes up to half a second
    /// (an immediate stop, then SIGKILL of what is left), the rest is slack for a loaded host.
    public static let margin = Duration.seconds(2)
}

extension HAMachine {
    /// The shell found a fence a previous agent left armed: the first cycle that has nothing
    /// for it to guard disarms it.
    public mutating func fenceFoundArmed() {
        if fence == .disarm { fence = .arm(until: .zero, watchdog: nil) }
    }

    /// The fence's deadline for a lock confirmed now: the lease's end (counted from when the
    /// renewal was sent) less the margin. Nil in pause, where PostgreSQL is the operator's.
    func fenceAfterConfirmation() -> FenceOrder? {
        guard !settings.paused, let until = lock.validUntil(ttl: settings.ttl) else { return nil }
        return .arm(until: until - FenceOrder.margin, watchdog: settings.watchdog.deviceTimeout(settings.timings))
    }

    /// A required watchdog that could not be started (or cannot be used under these timings):
    /// a primary steps down at once, a member about to lead gives the key back (Patroni's
    /// enforce_primary_role). Nil when the watchdog is not required or runs.
    mutating func refusalWithoutWatchdog(_ order: FenceOrder, _ result: ActionResult, at now: Duration) -> Next? {
        guard settings.watchdog.mode == .required, case let .arm(_, watchdog) = order else { return nil }
        let why: String
        switch (watchdog, result) {
        case (nil, _): why = "its timeout of \(settings.watchdog.timeout(ttl: settings.timings.ttl)) s leaves no time for a cycle of loop_wait"
        case let (_, .watchdogFailed(reason)): why = reason
        default: return nil
        }
        cycle!.plan = []
        // A server started in this cycle (a bootstrap, a restart as primary) may be a primary
        // the last look did not see yet: stopped too.
        if observation?.postgres.isRunningPrimary == true || cycle!.promoted || cycle!.changedPostgres {
            startDemotion(.immediate)
            return Next(advance(at: now).step,
                        decided: Decision(.watchdogFailed, "Demoting self because watchdog could not be activated: \(why)",
                                          [.demote(.immediate)]))
        }
        cycle!.queue = [.optional(.releaseLeader)]
        return Next(advance(at: now).step,
                    decided: Decision(.watchdogFailed, "Not promoting self because watchdog could not be activated: \(why)"))
    }

    /// At the end of a cycle: disarm a fence that guards nothing any more. That is after a
    /// demotion (PostgreSQL now runs as a replica, or not at all), in pause (PostgreSQL is the
    /// operator's), or without a valid lock once PostgreSQL is no longer a running primary.
    /// A primary that lost its lock and is not demoted yet keeps the deadline it had.
    func fenceAtCycleEnd() -> FenceOrder? {
        guard case .arm = fence else { return nil }
        if settings.paused || cycle?.demoted == true { return .disarm }
        if lock.validUntil(ttl: settings.ttl) != nil { return nil }
        return observation?.postgres.isRunningPrimary == true ? nil : .disarm
    }
}
