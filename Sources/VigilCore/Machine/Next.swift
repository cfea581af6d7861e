/// What the machine asks of the shell next, with the decision it just made (if any) for the
/// log and the metrics.
public struct Next: Sendable, Equatable {
    /// A new decision: the shell logs its summary and counts its reason. nil: carrying on.
    public var decided: Decision?
    public var step: Step

    public init(_ step: Step, decided: Decision? = nil) {
        self.step = step
        self.decided = decided
    }
}

public enum Step: Sendable, Equatable {
    /// Look at the world (store, PostgreSQL, files) and hand it to `HAMachine.observed(_:)`.
    case observe
    /// Carry it out and hand its result to `HAMachine.completed(_:_:at:)`.
    case perform(Action)
    /// The cycle is over: the next one is due at `nextCycleAt` (monotonic time, as `Sighting.now`),
    /// or earlier when the shell is woken (a watch event, a request, the postmaster's exit).
    case finish(nextCycleAt: Duration)
}

/// How a step went, as the shell reports it.
public enum ActionResult: Sendable, Equatable {
    case done
    /// The store proved the leader key ours (acquired or renewed) by a request sent at `sentAt`.
    case confirmed(sentAt: Duration)
    /// The store said no: the race was lost, the key is not ours, the request was stale.
    case refused(String)
    /// The store did not answer (a time-out, a lost connection): no proof either way.
    case noAnswer(String)
    /// The step did not work (PostgreSQL would not start, a copy failed…).
    case failed(String)
    /// The peers' answers to `.askPeers`.
    case peers([PeerStatus])
    /// The answer to `.readTimelineSwitch` (nil: not found).
    case timelineSwitch(TimelineDivergence.HistoryEntry?)
    /// The answer to `.checkTimeline`.
    case timelineCheck(TimelineDivergence.Check)
    /// The answer to `.refreshPostgres`.
    case postgres(PostgresStatus)
    /// The `sync` key was written: its new version (0: deleted, a write after it expects it absent).
    case syncWritten(version: Int64)
    /// The fence is armed, but the watchdog device it was asked to run could not be started.
    case watchdogFailed(String)

    public var succeeded: Bool {
        switch self {
        case .done, .confirmed, .peers, .timelineSwitch, .timelineCheck, .postgres, .syncWritten: true
        case .refused, .noAnswer, .failed, .watchdogFailed: false
        }
    }
}
