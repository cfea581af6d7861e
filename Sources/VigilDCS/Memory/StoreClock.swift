import Foundation
import Synchronization

/// Time for the in-memory store and the HA loop: either the real monotonic clock, or a manual
/// one that a test or the simulation advances by hand, so lease expiry is exact and replayable.
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

    /// The real instant of a point in this clock's time (for a manual clock, as if it had run
    /// since it was made), for code that keeps `ContinuousClock` instants.
    public func instant(_ time: Duration) -> ContinuousClock.Instant { origin + time }

    /// Wall-clock seconds since 1970: the real ones, or for a manual clock a fixed day in 2027
    /// plus its time, so scheduled times and timestamps replay the same.
    public var wallClock: Double {
        if isManual { return 1_800_000_000 + Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18 }
        return Date().timeIntervalSince1970
    }

    /// Moves a manual clock forward (no effect on a system clock).
    public func advance(by duration: Duration) {
        if isManual { manual.withLock { $0 += duration } }
    }
}
