import Foundation
import VigilConfig
import VigilCore

/// `patronictl list`'s rows, computed as Patroni's `cluster_as_json` and `output_members` do
/// (spec §5.2): role names in Title Case, replication state over state, LSNs as `X/Y`, lag in
/// whole MB against the leader's last known position, `unknown` where a member has no LSN.
struct MemberTable {
    let cluster: ClusterState
    let scope: String
    var extended = false
    /// The leader first, the others under it as `+ name`.
    var topology = false

    struct Row {
        var member: String
        var host: String
        var port: Int?
        var role: String
        var state: String
        var timeline: String
        var receiveLSN: String
        var receiveLag: String
        var replayLSN: String
        var replayLag: String
        var pendingRestart: String
        var scheduledRestart: String
        var tags: JSONValue?
    }

    var rows: [Row] {
        let leader = cluster.leader?.name
        // A replica the sync key lists is a Sync (or Quorum) Standby while the mode is on, as patronictl says.
        let syncMode = cluster.syncMode
        var rows = MemberSummary.all(in: cluster).map { member -> Row in
            let r = member.record
            let role = member.isLeader ? "Leader"
                : SyncReplication.isListedStandby(member.name, in: cluster, mode: syncMode)
                ? (syncMode == .quorum ? "Quorum Standby" : "Sync Standby") : "Replica"
            var row = Row(member: member.name, host: member.address?.host ?? "", port: member.address?.port,
                          role: role, state: member.state ?? "",
                          timeline: r.timeline.map(String.init) ?? "", receiveLSN: "", receiveLag: "", replayLSN: "",
                          replayLag: "", pendingRestart: r.pendingRestart ? "*" : "", scheduledRestart: "", tags: r.tags)
            if let scheduled = r.scheduledRestart, let at = scheduled["schedule"]?.stringValue {
                row.scheduledRestart = at + (scheduled["postgres_version"]?.stringValue.map { " if version < \($0)" } ?? "")
            }
            if !member.isLeader {
                // The LSN as text and the lag in whole MB (Python's round), `unknown` and no lag when absent.
                func cells(_ p: MemberSummary.Position?) -> (lsn: String, lag: String) {
                    guard let p else { return ("unknown", "") }
                    return (LSN(UInt64(clamping: p.lsn)).description, String(Int((Double(p.lag) / 1_048_576).rounded(.toNearestOrEven))))
                }
                var (receive, replay) = (cells(member.receive), cells(member.replay))
                // Old member keys carry only xlog_location (patronictl's compatibility rule).
                if member.receive == nil, member.replay == nil, member.position != nil {
                    if row.state == "streaming" { receive = cells(member.position) } else { replay = cells(member.position) }
                }
                (row.receiveLSN, row.receiveLag, row.replayLSN, row.replayLag) = (receive.lsn, receive.lag, replay.lsn, replay.lag)
            }
            return row
        }
        if topology {
            rows.sort { a, b in (a.role == "Leader" ? 0 : 1, a.member) < (b.role == "Leader" ? 0 : 1, b.member) }
            for i in rows.indices where rows[i].role != "Leader" && leader != nil { rows[i].member = "+ " + rows[i].member }
        }
        // host:port when any port is not 5432 or two members share a host.
        let withHost = rows.filter { !$0.host.isEmpty }
        let appendPort = withHost.contains { ($0.port ?? 5432) != 5432 } || Set(withHost.map(\.host)).count < withHost.count
        if appendPort {
            for i in rows.indices where !rows[i].host.isEmpty {
                if let port = rows[i].port { rows[i].host += ":\(port)" }
            }
        }
        return rows
    }

    var title: String {
        let initialize = cluster.initialize.map { $0.isEmpty ? "initializing" : $0 } ?? "uninitialized"
        return " Cluster: \(scope) (\(initialize)) "
    }

    /// Columns in patronictl's order; the optional ones appear with -e or when a member has a value.
    func columns(_ rows: [Row]) -> [String] {
        var columns = ["Cluster", "Member", "Host", "Role", "State", "TL", "Receive LSN", "Receive Lag", "Replay LSN", "Replay Lag"]
        if extended || rows.contains(where: { !$0.pendingRestart.isEmpty }) { columns.append("Pending restart") }
        if extended { columns.append("Pending restart reason") }
        if extended || rows.contains(where: { !$0.scheduledRestart.isEmpty }) { columns.append("Scheduled restart") }
        if extended || rows.contains(where: { $0.tags?.objectValue?.isEmpty == false }) { columns.append("Tags") }
        return columns
    }

    func cells(_ row: Row, _ columns: [String], tagsFlow: Bool) -> [String] {
        columns.map { column in
            switch column {
            case "Cluster": scope
            case "Member": row.member
            case "Host": row.host
            case "Role": row.role
            case "State": row.state
            case "TL": row.timeline
            case "Receive LSN": row.receiveLSN
            case "Receive Lag": row.receiveLag
            case "Replay LSN": row.replayLSN
            case "Replay Lag": row.replayLag
            case "Pending restart": row.pendingRestart
            case "Scheduled restart": row.scheduledRestart
            case "Tags": row.tags.map { TagsText.render($0, flow: tagsFlow) } ?? ""
            default: ""
            }
        }
    }

    /// The pretty table and the lines under it (maintenance mode, a scheduled switchover).
    func pretty() -> String {
        let rows = self.rows
        var columns = columns(rows)
        let cells = rows.map { Array(self.cells($0, columns, tagsFlow: false).dropFirst()) }
        columns.removeFirst()
        columns = columns.map { $0 == "Receive Lag" || $0 == "Replay Lag" ? "Lag" : $0 }
        var text = PrettyTable(columns: columns, rows: cells, rightAligned: ["Receive LSN", "Replay LSN", "Lag", "TL"],
                               title: title).render()
        var info: [String] = []
        if let config = cluster.config?.value, config["pause"] == .bool(true) { info.append("Maintenance mode: on") }
        if let request = cluster.failover?.value, let at = request.scheduledAt {
            var line = "Switchover scheduled at: \(at)"
            if let from = request.leader { line += "\n" + String(repeating: " ", count: 20) + "from: \(from)" }
            if let to = request.member { line += "\n" + String(repeating: " ", count: 22) + "to: \(to)" }
            info.append(line)
        }
        if !info.isEmpty { text += "\n " + info.joined(separator: "\n ") }
        return text
    }

    func tsv() -> String {
        let rows = self.rows
        let columns = columns(rows)
        return ([columns] + rows.map { cells($0, columns, tagsFlow: true) }).map { $0.joined(separator: "\t") }.joined(separator: "\n")
    }

    /// json: a list of objects keyed by column name, empty values left out.
    func json() -> JSONValue {
        let rows = self.rows
        let columns = columns(rows)
        return .array(rows.map { row in
            .object(zip(columns, cells(row, columns, tagsFlow: true)).compactMap { column, value in
                guard !value.isEmpty else { return nil }
                if column == "Tags", let tags = row.tags { return (column, tags) }
                if ["TL", "Receive Lag", "Replay Lag"].contains(column), let number = Int64(value) { return (column, .int(number)) }
                return (column, .string(value))
            })
        })
    }
}

/// Tags as PyYAML writes them: a block (`key: value` lines) for pretty, flow (`{key: value}`) otherwise.
enum TagsText {
    static func render(_ tags: JSONValue, flow: Bool) -> String {
        let entries = (tags.objectValue ?? []).sorted { $0.key < $1.key }.map { "\($0.key): \(scalar($0.value))" }
        return flow ? "{" + entries.joined(separator: ", ") + "}" : entries.joined(separator: "\n")
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case let .bool(b): b ? "true" : "false"
        case let .int(i): String(i)
        case let .string(s): s
        default: value.compactText
        }
    }
}
