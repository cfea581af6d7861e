import VigilCore

/// `GET /cluster` (spec §1.4): every member as the store shows it, sorted by name, with
/// replicas' positions and lag from the leader's last known position (`MemberSummary`).
public enum ClusterDocument {
    public static func json(_ s: NodeSnapshot) -> JSONValue {
        guard let cluster = s.cluster else { return .object([("members", .array([])), ("scope", .string(s.scope))]) }
        let members: [JSONValue] = MemberSummary.all(in: cluster).map { member in
            let r = member.record
            var o: [(key: String, value: JSONValue)] = [("name", .string(member.name)),
                                                        ("role", .string(member.isLeader ? "leader" : "replica"))]
            if let state = member.state { o.append(("state", .string(state))) }
            if let api = r.apiURL { o.append(("api_url", .string(api))) }
            if let address = member.address {
                o.append(("host", .string(address.host)))
                o.append(("port", .int(Int64(address.port))))
            }
            if let timeline = r.timeline { o.append(("timeline", .int(timeline))) }
            if r.pendingRestart { o.append(("pending_restart", true)) }
            if let tags = r.tags, case let .object(entries) = tags, !entries.isEmpty { o.append(("tags", tags)) }
            if !member.isLeader {
                // Patroni writes "unknown" for both the LSN and its lag when the member has none.
                func pair(_ p: MemberSummary.Position?) -> (lag: JSONValue, lsn: JSONValue) {
                    guard let p else { return ("unknown", "unknown") }
                    return (.int(p.lag), .string(LSN(UInt64(clamping: p.lsn)).description))
                }
                let (receive, replay, position) = (pair(member.receive), pair(member.replay), pair(member.position))
                o += [("receive_lag", receive.lag), ("receive_lsn", receive.lsn), ("replay_lag", replay.lag),
                      ("replay_lsn", replay.lsn), ("lag", position.lag), ("lsn", position.lsn)]
            }
            return .object(o)
        }
        var o: [(key: String, value: JSONValue)] = [("members", .array(members)), ("scope", .string(s.scope))]
        if s.paused { o.append(("pause", true)) }
        return .object(o)
    }
}
