/// Where the local PostgreSQL's WAL stands at the moment a peer asks (`GET /patroni`), read
/// live rather than from the last cycle: during a leader race a candidate compares itself with
/// the others by these positions, and one a cycle old (up to `loop_wait`) can hide the commits a
/// standby confirmed since, letting a member that lacks them be promoted. Patroni reads them
/// live for every request too.
public struct WALPositions: Sendable, Equatable {
    public var role: PostgresStatus.Role
    /// The primary's flushed position, or a replica's furthest of received and replayed.
    public var walPosition: Int64?
    public var receiveLSN: Int64?
    public var replayLSN: Int64?

    public init(role: PostgresStatus.Role, walPosition: Int64?, receiveLSN: Int64?, replayLSN: Int64?) {
        self.role = role
        self.walPosition = walPosition
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
    }
}

extension PostgresStatus {
    /// The positions replaced by live ones, when the server still has the role this status
    /// gives it (one that changed role since is left to the next cycle to report whole).
    public mutating func update(with live: WALPositions) {
        guard state == .running, role == live.role else { return }
        walPosition = live.walPosition ?? walPosition
        receiveLSN = live.receiveLSN ?? receiveLSN
        replayLSN = live.replayLSN ?? replayLSN
    }
}
