/// The primary's deadline, explicit: the moment its PostgreSQL must stop taking writes unless a
/// confirmed renewal of the leader key moves it. It is the fence's deadline (the lease's end,
/// counted from when the last confirmed renewal was sent, less `FenceOrder.margin`), held in
/// the machine too, so that a cycle that runs late (a slow store, a slow PostgreSQL, an agent
/// that was stalled) stops PostgreSQL itself, whether or not the fence outside is alive.
extension HAMachine {
    /// Nil when this member holds no lock it could still be leading on, and in pause
    /// (PostgreSQL is the operator's there, as in Patroni).
    public var stopBy: Duration? {
        guard !settings.paused, let until = lock.validUntil(ttl: settings.ttl) else { return nil }
        return until - FenceOrder.margin
    }

    /// The end no call of the shell may run past (a store request, a query to PostgreSQL): the
    /// deadline while it lies ahead, so a call that hangs is cut short in time for the machine
    /// to stop PostgreSQL itself. Nil without a lock, in pause, or once the deadline has passed
    /// (the machine has acted on it: calls get their own time again).
    public func callsEnd(at now: Duration) -> Duration? {
        stopBy.flatMap { $0 > now ? $0 : nil }
    }

    /// Past the deadline, a primary steps down before anything else: a fast stop (writes end
    /// at once, its standbys get what it has), restarted read-only, the key left to lapse since
    /// nothing proves it ours (as when the store cannot be reached). Nil when the deadline has
    /// not passed, or there is no running primary to stop, or a demotion runs or ran this cycle.
    mutating func stopAfterDeadline(at now: Duration) -> Next? {
        guard let c = cycle, c.demotion == nil, !c.demoted, !c.shutdown, let stopBy, now >= stopBy,
              observation?.postgres.isRunningPrimary == true || c.promoted else { return nil }
        cycle!.plan = []
        // Past the deadline in the cycle's last steps too: the end of the cycle (the fence
        // disarmed once PostgreSQL is a replica, the member key) is worked out again after the
        // demotion, or the fence would stop the replica it restarts.
        cycle!.finishing = false
        startDemotion(.offline)
        let left = Int(((stopBy + FenceOrder.margin - now).inSeconds * 10).rounded(.down))
        let words = left > 0 ? "it ends in \(left / 10).\(left % 10) s at most" : "it has ended"
        return Next(advance(at: now).step,
                    decided: Decision(.leaseRanOut,
                                      "demoting self because the leader lease was not renewed in time (\(words))",
                                      [.demote(.offline)]))
    }
}
