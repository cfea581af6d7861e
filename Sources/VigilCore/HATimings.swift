/// The three numbers that bound every HA cycle: how long the leader lease lives (`ttl`),
/// how long an agent sleeps between cycles (`loop_wait`), and how long one call to the
/// store or to PostgreSQL may take before it is given up (`retry_timeout`). All in seconds.
///
/// A cycle may spend up to `retry_timeout` reading the store and up to `retry_timeout`
/// writing it, and then sleeps `loop_wait`; if that exceeds `ttl`, a healthy leader can
/// lose its lease between two renewals. Hence the rule `loop_wait + 2*retry_timeout <= ttl`,
/// which is enforced here exactly as Patroni 4.1.5 enforces it, so that a cluster run by
/// either behaves the same.
public struct HATimings: Sendable, Equatable, CustomStringConvertible {
    public var ttl: Int
    public var loopWait: Int
    public var retryTimeout: Int

    public init(ttl: Int, loopWait: Int, retryTimeout: Int) {
        self.ttl = ttl
        self.loopWait = loopWait
        self.retryTimeout = retryTimeout
    }

    /// Patroni's defaults for a cluster whose dynamic config names none of the three.
    public static let defaults = HATimings(ttl: 30, loopWait: 10, retryTimeout: 10)

    /// The floors below which a value is raised. Patroni's floor for `ttl` is 20 s; Vigil
    /// accepts shorter leases (with a warning, see `Adjustment.belowPatroniFloor`) so a fast
    /// profile can fail over in a few seconds. Its own floor is the smallest lease that the
    /// rule can hold with the smallest cycle.
    public static let minimumLoopWait = 1
    public static let minimumRetryTimeout = 2
    public static let minimumTTL = minimumLoopWait + 2 * minimumRetryTimeout
    public static let patroniMinimumTTL = 20
    public static let patroniMinimumRetryTimeout = 3

    public var satisfiesRule: Bool { loopWait + 2 * retryTimeout <= ttl }

    public var description: String {
        "ttl \(ttl), loop_wait \(loopWait), retry_timeout \(retryTimeout)"
    }

    /// What was changed on the way from the configured to the effective timings.
    public enum Adjustment: Sendable, Equatable, CustomStringConvertible {
        /// A value below Vigil's floor was raised to it.
        case raisedToFloor(key: String, from: Int, to: Int)
        /// A value Vigil accepts but Patroni would raise (Patroni's floor, the value Patroni would use).
        case belowPatroniFloor(key: String, value: Int, patroniFloor: Int)
        /// `loop_wait + 2*retry_timeout > ttl`: loop_wait lowered, and retry_timeout too when
        /// lowering loop_wait to its floor was not enough.
        case ruleEnforced(requested: HATimings, effective: HATimings)

        /// One line for the log (the config check says more, with the file's line numbers).
        public var description: String {
            switch self {
            case let .raisedToFloor(key, from, to):
                "\(key) \(from) is below the minimum; \(to) is used"
            case let .belowPatroniFloor(key, value, floor):
                "\(key) \(value) is below Patroni's minimum of \(floor): used as written (faster failover, less tolerance for a slow store)"
            case let .ruleEnforced(requested, effective):
                "loop_wait + 2 × retry_timeout exceeds ttl (\(requested)): running with \(effective)"
            }
        }
    }

    /// The timings that will actually be used, and every change made to get there.
    /// Mirrors Patroni: floors first; then, if the rule is broken, lower `loop_wait` to
    /// `ttl - 2*retry_timeout`; if even `loop_wait = 1` cannot hold it, set `loop_wait = 1`
    /// and `retry_timeout = (ttl - 1) / 2`. The stored configuration is not rewritten.
    public func effective() -> (timings: HATimings, adjustments: [Adjustment]) {
        var adjustments: [Adjustment] = []
        var t = self
        func floor(_ key: String, _ value: inout Int, _ minimum: Int) {
            if value < minimum {
                adjustments.append(.raisedToFloor(key: key, from: value, to: minimum))
                value = minimum
            }
        }
        floor("ttl", &t.ttl, Self.minimumTTL)
        floor("loop_wait", &t.loopWait, Self.minimumLoopWait)
        floor("retry_timeout", &t.retryTimeout, Self.minimumRetryTimeout)
        if t.ttl < Self.patroniMinimumTTL {
            adjustments.append(.belowPatroniFloor(key: "ttl", value: t.ttl, patroniFloor: Self.patroniMinimumTTL))
        }
        if t.retryTimeout < Self.patroniMinimumRetryTimeout {
            adjustments.append(.belowPatroniFloor(
                key: "retry_timeout", value: t.retryTimeout, patroniFloor: Self.patroniMinimumRetryTimeout))
        }
        if !t.satisfiesRule {
            let requested = t
            let loopWait = t.ttl - 2 * t.retryTimeout
            if loopWait >= Self.minimumLoopWait {
                t.loopWait = loopWait
            } else {
                t.loopWait = Self.minimumLoopWait
                t.retryTimeout = (t.ttl - 1) / 2
            }
            adjustments.append(.ruleEnforced(requested: requested, effective: t))
        }
        return (t, adjustments)
    }
}
