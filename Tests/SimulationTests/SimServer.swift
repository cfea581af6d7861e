import VigilCore
import VigilPostgres

/// A simulated PostgreSQL server and its data directory, reduced to what the HA rules depend
/// on: whether it runs, as what, on which timeline, how much WAL it has, where its timeline
/// branched, whom it streams from. It is the `PostgresControl` the real `HALoop` drives in the
/// simulation; the world (`SimCluster`) moves WAL between servers between steps.
final class SimServer: PostgresControl, @unchecked Sendable {
    unowned let world: SimCluster
    let name: String

    var systemID: String?
    var running = false {
        didSet { if oldValue && !running && role == .primary { stoppedAsPrimaryAt = world.now } }
    }
    /// When it last stopped taking writes as a primary (stopped, crashed or killed).
    var stoppedAsPrimaryAt: Duration?
    var crashed = false
    var role: PostgresStatus.Role = .replica
    var timeline: Int64 = 1
    var wal: Int64 = 0
    /// The node it streams from (primary_conninfo), by name.
    var upstream: String?
    /// Whether the walreceiver is connected and receiving (set by the replication step).
    var streaming = false
    /// Timeline switches in this data directory's past (its history file).
    var history: [TimelineDivergence.HistoryEntry] = []
    /// It runs but answers nothing, and ignores every signal but SIGKILL (SIGSTOPped).
    var hungUntil: Duration?
    /// synchronous_standby_names as the agent set it (kept in the data directory's files).
    var syncNames: SyncNamesSetting = .configured
    /// The highest WAL position whose commit was acknowledged after a synchronous standby
    /// confirmed it (while synchronous_standby_names named one).
    var syncAcknowledged: Int64 = 0
    /// Replication slots (pg_replslot) and their restart positions. A clone or a rewind starts
    /// without any, as pg_basebackup and pg_rewind leave a data directory.
    var slots: [String: Int64] = [:]

    /// synchronous_standby_names as PostgreSQL runs it.
    var parsedSyncNames: SyncStandbyNames.Parsed {
        if case let .managed(value?) = syncNames { return SyncStandbyNames.parse(value) ?? .off }
        return .off
    }

    /// The standbys streaming from this primary now (pg_stat_replication), in connection order.
    var connectedStandbys: [SimServer] {
        world.servers.filter { $0.running && $0.upstream == name && $0.streaming && !$0.diverged(from: self) }
    }

    /// Each connected standby's sync_state as PostgreSQL reports it: in priority mode the first
    /// `num` listed (by their place in the list) are "sync", the other listed "potential"; in
    /// quorum mode every listed one is "quorum"; the rest "async".
    func syncStates() -> [String: String] {
        let parsed = parsedSyncNames
        var states: [String: String] = [:]
        let standbys = connectedStandbys
        for s in standbys { states[s.name] = "async" }
        guard parsed.kind != .off else { return states }
        let listed = standbys.filter { parsed.hasStar || parsed.members.contains($0.name.lowercased()) }
        if parsed.kind == .quorum {
            for s in listed { states[s.name] = "quorum" }
            return states
        }
        let ordered = parsed.hasStar ? listed : listed.sorted {
            (parsed.listed.firstIndex(of: $0.name) ?? .max) < (parsed.listed.firstIndex(of: $1.name) ?? .max)
        }
        for (i, s) in ordered.enumerated() { states[s.name] = i < parsed.num ? "sync" : "potential" }
        return states
    }

    /// Up to where commits are acknowledged now: everything when no standby is named; else what
    /// the standbys PostgreSQL waits for have (nil: commits wait, too few of them are connected).
    func acknowledgedPosition() -> Int64? {
        let parsed = parsedSyncNames
        guard parsed.kind != .off, parsed.num > 0 else { return wal }
        let states = syncStates()
        let standbys = connectedStandbys
        if parsed.kind == .quorum {
            let positions = standbys.filter { states[$0.name] == "quorum" }.map(\.wal).sorted(by: >)
            return positions.count >= parsed.num ? positions[parsed.num - 1] : nil
        }
        let sync = standbys.filter { states[$0.name] == "sync" }
        return sync.count >= parsed.num ? sync.map(\.wal).min() : nil
    }

    init(world: SimCluster, name: String) {
        self.world = world
        self.name = name
    }

    var isPrimary: Bool { running && role == .primary }
    func hung(at now: Duration) -> Bool { running && (hungUntil.map { now < $0 } ?? false) }
    /// It takes writes: a running primary that is not frozen.
    var writable: Bool { isPrimary && !hung(at: world.now) }

    // MARK: PostgresControl

    var hasDataDirectory: Bool { systemID != nil }
    var dataDirectoryRole: PostgresStatus.Role { role }
    var currentState: PostgresStatus.State {
        get async { running ? .running : crashed ? .crashed("killed") : .stopped }
    }

    func observe(timeout: Duration) async -> PostgresStatus {
        guard systemID != nil else { return PostgresStatus(state: .uninitialized) }
        var managed = PostgresStatus(state: .stopped)
        if case .managed = syncNames { managed.syncNamesManaged = true }
        if crashed { managed.state = .crashed("killed"); return managed }
        guard running else { return managed }
        // A hung server answers nothing: the agent knows only that it runs.
        if hung(at: world.now) { managed.state = .running; return managed }
        var status = PostgresStatus(state: .running, role: role, timeline: timeline, walPosition: positions.walPosition,
                                    receiveLSN: positions.receiveLSN, replayLSN: positions.replayLSN,
                                    replicationState: role == .replica ? (streaming ? "streaming" : "in archive recovery") : nil,
                                    systemIdentifier: systemID)
        status.syncNamesManaged = managed.syncNamesManaged
        let streamingHere = Set(connectedStandbys.map { SlotName.forMember($0.name) })
        status.slots = slots.sorted { $0.key < $1.key }.map {
            ReplicationSlot(name: $0.key, type: "physical", active: role == .primary && streamingHere.contains($0.key), restartLSN: $0.value)
        }
        if role == .primary {
            // pg_stat_replication: the standbys streaming from it (application_name is the member's name).
            let states = syncStates()
            status.replication = connectedStandbys.map {
                StandbyConnection(applicationName: $0.name, clientAddress: nil, state: "streaming",
                                  syncState: states[$0.name] ?? "async", sentLSN: $0.wal, flushLSN: $0.wal, replayLSN: $0.wal)
            }
            if case let .managed(value) = syncNames { status.synchronousStandbyNames = value ?? "" } else {
                status.synchronousStandbyNames = ""
            }
            status.synchronousCommit = "on"
        }
        return status
    }

    /// Where its WAL stands, as its queries report it (a replica has replayed all it received).
    var positions: WALPositions {
        WALPositions(role: role, walPosition: wal, receiveLSN: role == .replica ? wal : nil, replayLSN: role == .replica ? wal : nil)
    }

    func systemIdentifier() async throws(InstanceError) -> String {
        guard let systemID else { throw InstanceError(.dataDirectory, "no data directory") }
        return systemID
    }

    func bootstrapCluster() async throws(InstanceError) -> String {
        let id = world.newSystemID()
        systemID = id
        running = true
        crashed = false
        role = .primary
        timeline = 1
        wal = 1000
        history = []
        upstream = nil
        slots = [:]
        return id
    }

    func createReplica(from primary: HostPort) async throws(InstanceError) {
        guard let source = world.server(at: primary), source.running, !source.hung(at: world.now) else {
            throw InstanceError(.command, "pg_basebackup: cannot connect to \(primary.host)")
        }
        systemID = source.systemID
        syncNames = .configured
        syncAcknowledged = 0
        timeline = source.timeline
        history = source.history
        wal = source.wal
        slots = [:]
        role = .replica
        upstream = source.name
        running = true
        crashed = false
    }

    func reinitialize(from primary: HostPort) async throws(InstanceError) {
        running = false
        try await createReplica(from: primary)
    }

    func start(_ role: PostgresInstance.Role, readyWithin: Duration?) async throws(InstanceError) {
        guard systemID != nil else { throw InstanceError(.dataDirectory, "no data directory") }
        guard !running else { throw InstanceError(.state, "already running") }
        running = true
        crashed = false
        hungUntil = nil
        switch role {
        case .primary:
            self.role = .primary
            upstream = nil
        case let .replica(of):
            self.role = .replica
            upstream = of.flatMap { world.server(at: $0)?.name }
        }
        // A new walreceiver connects on a later step (the world's replication step).
        streaming = false
    }

    func stop(_ mode: PostgresInstance.StopMode, timeout: Duration) async throws(InstanceError) {
        guard running else { return }
        if hung(at: world.now) { throw InstanceError(.timeout, "PostgreSQL did not stop within \(timeout)") }
        if mode != .immediate {
            // The walsenders wait for every connected standby to confirm the shutdown
            // checkpoint: a frozen one holds the stop until it times out.
            if role == .primary, world.servers.contains(where: {
                $0.running && $0.upstream == name && $0.streaming && $0.hung(at: world.now)
            }) {
                throw InstanceError(.timeout, "PostgreSQL did not stop (\(mode.rawValue)) within \(timeout)")
            }
            if role == .primary { world.record(.cleanStop(name, wal: wal)) }
            // A clean shutdown sends everything up to the shutdown checkpoint to the replicas
            // that stream from it before the walsenders exit.
            for replica in world.servers where replica.running && replica.upstream == name && replica.streaming
                && !replica.diverged(from: self) {
                replica.wal = max(replica.wal, wal)
            }
        }
        running = false
        streaming = false
    }

    func restart(mode: PostgresInstance.StopMode) async throws(InstanceError) {
        try await stop(mode, timeout: .seconds(60))
        running = true
    }

    func killPostmaster() async -> Bool {
        running = false
        crashed = false
        streaming = false
        hungUntil = nil
        return true
    }

    func leftoverPostmaster() async -> (pid: Int32, runsAsReplica: Bool)? {
        running ? (4242, role == .replica) : nil
    }

    func adoptLeftoverPostmaster() async -> Int32? {
        running ? 4242 : nil
    }

    func closeSession() async {}

    func stopLeftoverPostmaster(timeout: Duration) async -> Int32? {
        guard running else { return nil }
        do {
            try await stop(.fast, timeout: timeout)
        } catch {
            _ = await killPostmaster()
        }
        return 4242
    }

    func follow(_ upstream: HostPort) async throws(InstanceError) {
        guard running, role == .replica, let leader = world.server(at: upstream) else {
            throw InstanceError(.state, "not a running replica")
        }
        if self.upstream != leader.name { streaming = false }
        self.upstream = leader.name
    }

    func rejoin(_ upstream: HostPort) async throws(InstanceError) -> Bool {
        guard let leader = world.server(at: upstream), leader.running, !leader.hung(at: world.now) else {
            throw InstanceError(.command, "pg_rewind: cannot connect to \(upstream.host)")
        }
        if running { try await stop(.fast, timeout: .seconds(60)) }
        let rewound = diverged(from: leader)
        if rewound { rewind(onto: leader) }
        role = .replica
        self.upstream = leader.name
        running = true
        crashed = false
        streaming = false
        return rewound
    }

    func checkTimeline(against upstream: HostPort) async -> TimelineDivergence.Check {
        guard running, role == .replica, !hung(at: world.now) else { return .needsStoppedCheck("not a running replica") }
        guard let leader = world.server(at: upstream), leader.running, !leader.hung(at: world.now) else {
            return .leaderCannotTell("cannot connect to \(upstream.host)")
        }
        return diverged(from: leader) ? .needsStoppedCheck("past the branch point") : .withinLeaderHistory
    }

    func promote(knownHistory: [TimelineEvent], timeout: Duration) async throws(InstanceError) -> String? {
        guard running, role == .replica else { throw InstanceError(.state, "not a running replica") }
        if hung(at: world.now) { throw InstanceError(.timeout, "promotion did not finish within \(timeout)") }
        // Above its own timeline and every one the store knows of, so two branches never share one.
        let known = (knownHistory.map(\.timeline).max() ?? 0) + 1
        history.append(.init(parentTimeline: timeline, switchpoint: wal))
        timeline = max(timeline, known) + 1
        role = .primary
        upstream = nil
        streaming = false
        world.record(.promoted(name, wal: wal))
        return nil
    }

    func changeSlot(_ change: SlotChange) async throws(InstanceError) -> Bool {
        guard running else { throw InstanceError(.state, "not running") }
        if hung(at: world.now) { throw InstanceError(.timeout, "PostgreSQL did not answer") }
        switch change {
        case let .create(name):
            guard slots[name] == nil else { return false }
            slots[name] = positions.walPosition ?? 0
        case let .drop(name):
            return slots.removeValue(forKey: name) != nil
        case let .advance(name, lsn):
            guard let at = slots[name] else { return false }
            slots[name] = max(at, min(lsn, positions.walPosition ?? 0))
        }
        return true
    }

    func currentTimelineSwitch(timeline: Int64) async -> TimelineDivergence.HistoryEntry? {
        history.last { $0.parentTimeline == timeline - 1 } ?? history.last
    }

    func setSyncStandbyNames(_ setting: SyncNamesSetting) async throws(InstanceError) {
        if hung(at: world.now) { throw InstanceError(.timeout, "PostgreSQL did not answer") }
        syncNames = setting
    }

    func applyParameters(_ parameters: [(name: String, value: String)],
                         commandLine: [(name: String, value: String)]) async throws(InstanceError) -> [String] { [] }

    // MARK: The world's side

    /// Whether this directory has WAL that `leader`'s timeline lacks.
    func diverged(from leader: SimServer) -> Bool {
        TimelineDivergence.needsRewind(localTimeline: timeline, localLSN: wal, inRecovery: role == .replica,
                                       primaryTimeline: leader.timeline, history: leader.history)
    }

    /// pg_rewind onto `leader`: keep what is common, take the leader's timeline.
    func rewind(onto leader: SimServer) {
        if let branch = leader.history.first(where: { $0.parentTimeline == timeline }) { wal = min(wal, branch.switchpoint) }
        timeline = leader.timeline
        history = leader.history
        wal = min(wal, leader.wal)
        slots = [:]
    }

    /// The node is lost: the server dies with it.
    func crash() {
        guard running else { return }
        running = false
        crashed = true
        streaming = false
        hungUntil = nil
    }
}
