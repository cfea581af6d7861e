/// One member as Patroni's `cluster_as_json` describes it, the common source of `GET /cluster`
/// and of vigilctl's (patronictl's) member table: the leader's state, a replica's replication
/// state, and each WAL position of a replica with its lag behind the leader's last known
/// position (`status.optime`).
public struct MemberSummary: Sendable, Equatable {
    public struct Position: Sendable, Equatable {
        public var lsn: Int64
        /// Bytes behind the leader's last known position (0 when ahead of it).
        public var lag: Int64
    }

    public var name: String
    public var isLeader: Bool
    /// `replication_state` for a replica that has one, the member's `state` otherwise.
    public var state: String?
    /// Where its PostgreSQL listens, from `conn_url`.
    public var address: HostPort?
    public var record: MemberRecord
    /// Replicas only; nil when the member published no such position.
    public var receive: Position?
    public var replay: Position?
    public var position: Position?

    /// Every member, sorted by name.
    public static func all(in cluster: ClusterState) -> [MemberSummary] {
        let optime = cluster.status?.optime ?? 0
        func position(_ lsn: Int64?) -> Position? {
            guard let lsn, lsn > 0 else { return nil }
            return Position(lsn: lsn, lag: optime >= lsn ? optime - lsn : 0)
        }
        return cluster.members.sorted { $0.name < $1.name }.map { member in
            let r = member.record
            let isLeader = member.name == cluster.leader?.name
            var summary = MemberSummary(name: member.name, isLeader: isLeader,
                                        state: (isLeader ? nil : r.replicationState) ?? r.state,
                                        address: r.connURL.flatMap(ConnectionURL.hostPort), record: r)
            if !isLeader {
                summary.receive = position(r.receiveLSN)
                summary.replay = position(r.replayLSN)
                summary.position = position(r.xlogLocation)
            }
            return summary
        }
    }
}
