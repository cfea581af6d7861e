import VigilCore

/// `GET /cluster` (spec §1.4): every member as the store shows it, sorted by name, with
/// replicas' lag from the leader's last known position.
public enum ClusterDocument {
    public static func json(_ s: NodeSnapshot) -> JSONValue {
        guard let cluster = s.cluster else { return .object([("members", .array([])), ("scope", .string(s.scope))]) }
        let optime = cluster.status?.optime
        let members: [JSONValue] = cluster.members.sorted { $0.name < $1.name }.map { member in
            let r = member.record
            let isLeader = cluster.leader?.name == member.name
            var o: [(key: String, value: JSONValue)] = [("name", .string(member.name)),
                                                        ("role", .string(isLeader ? "leader" : "replica"))]
            let state = !isLeader ? (r.replicationState ?? r.state) : r.state
            if let state { o.append(("state", .string(state))) }
            if let api = r.apiURL { o.append(("api_url", .string(api))) }
            if let address = r.connURL.flatMap(ConnectionURL.hostPort) {
                o.append(("host", .string(address.host)))
                o.append(("port", .int(Int64(address.port))))
            }
            if let timeline = r.timeline { o.append(("timeline", .int(timeline))) }
            if r.pendingRestart { o.append(("pending_restart", true)) }
            if let tags = r.tags, case let .object(entries) = tags, !entries.isEmpty { o.append(("tags", tags)) }
            if !isLeader {
                func lag(_ lsn: Int64?) -> (JSONValue, JSONValue) {
                    guard let lsn else { return ("unknown", "unknown") }
                    let behind = optime.map { max(0, $0.subtractingReportingOverflow(lsn).partialValue) }
                    return (behind.map(JSONValue.int) ?? "unknown", .string(LSN(UInt64(clamping: lsn)).description))
                }
                let receive = lag(r.receiveLSN ?? r.xlogLocation)
                let replay = lag(r.replayLSN ?? r.xlogLocation)
                let position = lag(r.xlogLocation)
                o += [("receive_lag", receive.0), ("receive_lsn", receive.1), ("replay_lag", replay.0),
                      ("replay_lsn", replay.1), ("lag", position.0), ("lsn", position.1)]
            }
            return .object(o)
        }
        var o: [(key: String, value: JSONValue)] = [("members", .array(members)), ("scope", .string(s.scope))]
        if s.paused { o.append(("pause", true)) }
        return .object(o)
    }
}
