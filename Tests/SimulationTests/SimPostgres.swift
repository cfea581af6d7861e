import VigilCore

/// A PostgreSQL data directory and server reduced to what the HA rules depend on: whether
/// it runs, as what, on which timeline, how much WAL it has, and where its timeline branched.
struct SimPostgres {
    var systemID: String?
    var running = false
    var crashed = false
    var role: PostgresStatus.Role = .replica
    var timeline: Int64 = 1
    var wal: Int64 = 0
    var following: String?
    /// Whether the walreceiver is connected and receiving (set by the replication step).
    var streaming = false
    /// Timeline switches in this data directory's past (its history file).
    var history: [TimelineDivergence.HistoryEntry] = []
    var since: Duration = .zero

    var isPrimary: Bool { running && role == .primary }

    func status() -> PostgresStatus {
        guard systemID != nil else { return PostgresStatus(state: .uninitialized) }
        if crashed { return PostgresStatus(state: .crashed("killed"), role: role) }
        guard running else { return PostgresStatus(state: .stopped, role: role) }
        return PostgresStatus(state: .running, role: role, timeline: timeline, walPosition: wal,
                              receiveLSN: role == .replica ? wal : nil, replayLSN: role == .replica ? wal : nil,
                              replicationState: role == .replica ? (streaming ? "streaming" : "in archive recovery") : nil)
    }

    /// Whether this directory has WAL that `leader`'s timeline lacks.
    func diverged(from leader: SimPostgres) -> Bool {
        TimelineDivergence.needsRewind(localTimeline: timeline, localLSN: wal, inRecovery: role == .replica,
                                       primaryTimeline: leader.timeline, history: leader.history)
    }

    /// pg_rewind onto `leader`: keep what is common, take the leader's timeline.
    mutating func rewind(onto leader: SimPostgres) {
        if let branch = leader.history.first(where: { $0.parentTimeline == timeline }) { wal = min(wal, branch.switchpoint) }
        timeline = leader.timeline
        history = leader.history
        wal = min(wal, leader.wal)
    }

    /// Ends recovery on a timeline above both its own and every one the store knows of.
    mutating func promote(knownTimelines: Int64) {
        history.append(.init(parentTimeline: timeline, switchpoint: wal))
        timeline = max(timeline, knownTimelines) + 1
        role = .primary
        following = nil
        streaming = false
    }
}
