/// What the shell saw when it looked (store, PostgreSQL, the files, the clock), with no memory
/// of earlier looks: the machine adds what it remembers (the hold on the lock, where PostgreSQL
/// was pointed, the role and system ID a silent server last had) and builds the engine's
/// `Observation` from both.
public struct Sighting: Sendable, Equatable {
    /// Monotonic time when the look ended. Only differences matter.
    public var now: Duration
    /// When the look began: a cycle is timed from there, so a query that waited out its
    /// deadline does not push every later cycle back (nil: `now`).
    public var began: Duration?
    /// Wall-clock seconds since 1970: scheduled switchovers and restarts, history timestamps.
    public var wallClock: Double
    public var me: MemberIdentity
    public var settings: EngineSettings
    public var store: StoreView
    /// PostgreSQL as queried this time. A running server that did not answer has no role.
    public var postgres: PostgresStatus
    /// The query failed at once rather than timing out (a dropped session, not a hung server).
    public var queryFailedAtOnce: Bool
    public var dataDirectory: DataFiles
    /// A long operation the shell runs outside the cycle, if any.
    public var busyWith: String?
    /// Whether the watchdog device could be opened by this user (it exists, is writable, and its
    /// driver is known): a fact about the host; what follows from it is the machine's.
    public var watchdogDeviceUsable = true

    /// The data directory as the files say, without asking the server.
    public enum DataFiles: Sendable, Equatable {
        case empty
        /// `standby.signal` makes it a replica's; `systemID` from pg_controldata, when it was read
        /// (the shell does not run pg_controldata for a server that runs but does not answer).
        case present(role: PostgresStatus.Role, systemID: String?)
    }

    public init(now: Duration, wallClock: Double = 0, me: MemberIdentity, settings: EngineSettings, store: StoreView,
                postgres: PostgresStatus, queryFailedAtOnce: Bool = false, dataDirectory: DataFiles, busyWith: String? = nil) {
        self.now = now
        self.wallClock = wallClock
        self.me = me
        self.settings = settings
        self.store = store
        self.postgres = postgres
        self.queryFailedAtOnce = queryFailedAtOnce
        self.dataDirectory = dataDirectory
        self.busyWith = busyWith
        began = nil
    }

    /// A running server that did not answer this time.
    public var answering: Bool { postgres.state != .running || postgres.role != nil }
}
