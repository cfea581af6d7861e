import Synchronization

/// Time for the in-memory store: either the real monotonic clock, or a manual one that a
/// test or the simulation advances by hand, so lease expiry is exact and replayable.
public final class StoreClock: Sendable {
    private let isManual: Bool
    private let manual: Mutex<Duration>
    private let origin = ContinuousClock.now

    private init(manual: Duration?) {
        isManual = manual != nil
        self.manual = Mutex(manual ?? .zero)
    }

    /// Real time since the clock was made.
    public static func system() -> StoreClock { StoreClock(manual: nil) }
    /// Virtual time that only moves when `advance(by:)` is called.
    public static func manual(startingAt start: Duration = .zero) -> StoreClock { StoreClock(manual: start) }

    public var now: Duration {
        if isManual { return manual.withLock { $0 } }
        return ContinuousClock.now - origin
    }

    /// Moves a manual clock forward (no effect on a system clock).
    public func advance(by duration: Duration) {
        if isManual { manual.withLock { $0 += duration } }
    }
}
