import VigilCore

/// `watchdog:` (local only, as in Patroni): a watchdog device that resets the host when the
/// fence stops being fed, for the hang no process can act on (a frozen kernel, a stuck disk).
public struct WatchdogConfig: Sendable {
    /// The mode as written (`mode: false` reads as off, as in Patroni).
    public var modeText: String
    public var device: String
    /// Seconds between the device's reset and the lease's end; -1: the device's timeout is ttl / 2.
    public var safetyMargin: Int
    /// `default` (a Linux watchdog device) or `testing` (Patroni's stand-in: the device is any
    /// writable file, told `Ctimeout=N`, `1` for a keepalive and `V` to stop).
    public var driver: String

    init(_ s: ConfigSection) {
        modeText = s.string("mode") ?? "automatic"
        device = s.string("device") ?? "/dev/watchdog"
        safetyMargin = s.int("safety_margin", in: -1...86_400) ?? 5
        driver = s.string("driver") ?? "default"
    }

    /// The drivers a watchdog can be started with (WatchdogDevice.Driver).
    public static let drivers = ["default", "testing"]

    public var driverKnown: Bool { Self.drivers.contains(driver) }

    /// Patroni's reading of the mode: require(d), auto(matic), and off for anything else.
    public var mode: WatchdogPolicy.Mode { WatchdogPolicy.Mode(parsing: modeText) }

    /// Whether the mode is one Patroni knows (an unknown one turns the watchdog off, with a warning).
    public var modeRecognized: Bool { WatchdogPolicy.Mode(recognizing: modeText) != nil }

    public var policy: WatchdogPolicy { WatchdogPolicy(mode: mode, safetyMargin: safetyMargin) }
}
