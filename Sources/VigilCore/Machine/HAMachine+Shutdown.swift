/// SIGTERM: stop PostgreSQL (fast, so replicas get the shutdown checkpoint; immediately when
/// that takes too long), then give the leader key up at once so a replica need not wait for
/// the lease, and write the member key a last time without extending its lease. In pause
/// PostgreSQL and the key are left as they are.
extension HAMachine {
    /// How long the fast stop may take when `primary_stop_timeout` does not apply. Patroni then
    /// waits without a bound; the agent bounds it so that its own stop ends well inside
    /// systemd's default stop timeout (90 s) instead of being killed with PostgreSQL running.
    static let shutdownStopBudget = Duration.seconds(60)

    public mutating func shutdown(at now: Duration) -> Next {
        var c = Cycle(began: now)
        c.shutdown = true
        c.finishing = true
        if settings.paused {
            cycle = c
            return Next(.finish(nextCycleAt: now),
                        decided: Decision(.shuttingDown, "shutting down in pause: PostgreSQL keeps running and the leader key stays"))
        }
        c.queue = [.essential(.stopPostgres(.fast, timeout: settings.primaryStopBudget ?? Self.shutdownStopBudget))]
        // A synchronous standby first asks the primary to release it (commits would wait for it).
        if let me = observation?.me, let release = syncRelease(me: me, cluster: observation?.cluster) {
            c.queue.insert(.optional(release), at: 0)
        }
        cycle = c
        return Next(advance(at: now).step, decided: Decision(.shuttingDown, "shutting down: stopping PostgreSQL"))
    }

    mutating func shutdownStep(_ action: Action, _ result: ActionResult, at now: Duration) -> Next {
        switch (action, result.succeeded) {
        case (.releaseSync, _):
            break
        case (.stopPostgres(.fast, _), false):
            cycle!.queue = [.optional(.stopPostgres(.immediate, timeout: .seconds(10)))]
        case (.stopPostgres(.immediate, _), false):
            cycle!.queue = [.optional(.killPostmaster)]
        case (.stopPostgres, true), (.killPostmaster, _):
            // The key goes only once PostgreSQL is gone: a replica must not be promoted beside
            // a primary that still takes writes (then the key is left to lapse).
            let held = lock.lastConfirmed != nil && !lock.lost
            // Nothing is left for the fence to guard once PostgreSQL is gone; while it may still
            // run, the fence keeps its deadline.
            if result.succeeded, fence != .disarm { cycle!.queue.append(.optional(.fence(.disarm))) }
            if held, result.succeeded { cycle!.queue.append(.optional(.releaseLeader)) }
            cycle!.queue.append(.optional(.refreshPostgres))
            cycle!.queue.append(.optional(.publishMember(extendingLease: false)))
        case (.releaseLeader, _):
            lock = LockState()
        default:
            break
        }
        if cycle!.queue.isEmpty {
            cycle = nil
            return Next(.finish(nextCycleAt: now))
        }
        return advance(at: now)
    }
}
