import VigilCore

/// What the HA loop does with its PostgreSQL: the seam between the agent's shell and the real
/// server (`PostgresInstance`), and between the same shell and the simulation's servers.
public protocol PostgresControl: Sendable {
    /// Whether the data directory holds a cluster (PG_VERSION exists).
    var hasDataDirectory: Bool { get }
    /// A replica's data directory has standby.signal.
    var dataDirectoryRole: PostgresStatus.Role { get }
    /// The server's state now, from one round of queries within `timeout`.
    func observe(timeout: Duration) async -> PostgresStatus
    /// The state the process manager knows, without a query.
    var currentState: PostgresStatus.State { get async }
    /// pg_controldata's system identifier.
    func systemIdentifier() async throws(InstanceError) -> String
    /// initdb, start, create roles and databases; returns the system identifier.
    func bootstrapCluster() async throws(InstanceError) -> String
    func createReplica(from primary: HostPort) async throws(InstanceError)
    func reinitialize(from primary: HostPort) async throws(InstanceError)
    func start(_ role: PostgresInstance.Role, readyWithin: Duration?) async throws(InstanceError)
    func stop(_ mode: PostgresInstance.StopMode, timeout: Duration) async throws(InstanceError)
    func restart(mode: PostgresInstance.StopMode) async throws(InstanceError)
    /// SIGSTOP, then SIGKILL of the postmaster and every process it started; true once all are gone.
    func killPostmaster() async -> Bool
    /// A postmaster a previous agent left running on the data directory, and whether it runs as a replica.
    func leftoverPostmaster() async -> (pid: Int32, runsAsReplica: Bool)?
    /// Takes that postmaster over as it runs; its pid, if there was one.
    func adoptLeftoverPostmaster() async -> Int32?
    /// Closes the agent's session to PostgreSQL (the agent is leaving; PostgreSQL may stay).
    func closeSession() async
    /// Stops a postmaster a previous agent left running; its pid, if there was one.
    func stopLeftoverPostmaster(timeout: Duration) async -> Int32?
    func follow(_ upstream: HostPort) async throws(InstanceError)
    /// Stop if running, rewind if the history diverged, start streaming; true when it rewound.
    func rejoin(_ upstream: HostPort) async throws(InstanceError) -> Bool
    /// Where the running replica's WAL ends against `upstream`'s timeline history, without stopping it.
    func checkTimeline(against upstream: HostPort) async -> TimelineDivergence.Check
    /// Ends recovery above every timeline in `knownHistory`; returns why those timelines were
    /// not reserved first, when the history cannot be real.
    func promote(knownHistory: [TimelineEvent], timeout: Duration) async throws(InstanceError) -> String?
    /// Creates, drops (when inactive) or advances one replication slot; whether it changed anything.
    @discardableResult
    func changeSlot(_ change: SlotChange) async throws(InstanceError) -> Bool
    /// Where `timeline` branched off its parent (the last line of its history file).
    func currentTimelineSwitch(timeline: Int64) async -> TimelineDivergence.HistoryEntry?
    /// synchronous_standby_names: Vigil's value in synchronous mode, or the node's own; reloads.
    func setSyncStandbyNames(_ setting: SyncNamesSetting) async throws(InstanceError)
    /// Returns the parameters that need a restart.
    @discardableResult
    func applyParameters(_ parameters: [(name: String, value: String)],
                         commandLine: [(name: String, value: String)]) async throws(InstanceError) -> [String]
}

extension PostgresInstance: PostgresControl {
    public func bootstrapCluster() async throws(InstanceError) -> String { try await bootstrap(databases: []) }
}
