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
        stopBy.map { .arm(until: $0, watchdog: settings.watchdog.deviceTimeout(settings.timings)) }
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
