/// Patroni's `watchdog` section as the machine needs it: whether a watchdog device is used
/// and required, and the timeout it is set to for a lease.
///
/// The device lives in the fence's process, not the agent's: every confirmed renewal that
/// moves the fence's deadline also keeps the device alive. The fence stops PostgreSQL a second
/// before the device would fire and then stops the device, so a killed or frozen agent costs
/// PostgreSQL, not the host; only a fence that cannot act (a frozen kernel, a process stuck in
/// the disk) leaves the host to be reset before the lease ends.
public struct WatchdogPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        /// No device is used.
        case off
        /// A device is used when one can be opened (Patroni's default).
        case automatic
        /// This node never leads without a running device.
        case required

        /// Patroni's parse_mode: require/required, auto/automatic, anything else off.
        public init(parsing text: String) {
            self = Mode(recognizing: text) ?? .off
        }

        /// nil for a word Patroni does not know (which it reads as off, with a warning).
        public init?(recognizing text: String) {
            switch text.lowercased() {
            case "require", "required": self = .required
            case "auto", "automatic": self = .automatic
            case "off", "false", "disable", "disabled": self = .off
            default: return nil
            }
        }
    }

    public var mode: Mode
    /// Seconds between the device's reset and the lease's end; -1 sets the timeout to ttl / 2.
    public var safetyMargin: Int

    public init(mode: Mode, safetyMargin: Int = 5) {
        self.mode = mode
        self.safetyMargin = safetyMargin
    }

    public static let off = WatchdogPolicy(mode: .off)

    /// The device's timeout for a lease of `ttl` seconds: Patroni's `ttl - safety_margin`
    /// (`ttl // 2` with a margin of -1).
    public func timeout(ttl: Int) -> Int {
        safetyMargin == -1 ? ttl / 2 : ttl - safetyMargin
    }

    /// The timeout the device is set to under `timings`; nil when none is used: mode off, or a
    /// timeout that leaves no time for a cycle. Patroni asks only that it reach loop_wait; the
    /// fence acts `fenceLead` before the device would fire, so it must outlast loop_wait by
    /// more than that.
    public func deviceTimeout(_ timings: HATimings) -> Int? {
        guard mode != .off else { return nil }
        let timeout = timeout(ttl: timings.ttl)
        return timeout - Self.fenceLead >= timings.loopWait + 1 ? timeout : nil
    }

    /// How long before the device would fire the fence stops PostgreSQL (and then the device).
    public static let fenceLead = 1
}
