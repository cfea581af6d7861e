import Foundation
import VigilCore

/// Patroni's health-check answers (spec §1.2): the path is matched by substring, first rule
/// wins, and tag filters apply only to a 200. Pure: a snapshot and a time in, a status out.
public enum HealthCheck {
    public static func status(path: String, query: [String: String], snapshot s: NodeSnapshot,
                              now: ContinuousClock.Instant) -> Int {
        let path = path == "/" ? "/primary" : path
        let cluster = s.freshCluster(at: now)
        let isLeader = s.isLeader(at: now)
        let running = s.isRunning
        let role = s.role
        var leader = isLeader ? 200 : 503
        var primary = isLeader && role == "primary" ? 200 : 503
        if cluster == nil && s.paused {
            leader = running && role == "primary" ? 200 : 503
            primary = leader
        } else if isLeader {
            primary = 200
        }
        // A leader that is not (yet) running as primary is not routable for writes.
        if !(running && role == "primary") { primary = 503 }
        let replicaOK = !s.noloadbalance && lagOK(query: query, snapshot: s, cluster: cluster)
            && running && role == "replica"

        if path.contains("standby_leader") || path.contains("standby-leader") { return 503 }
        if path.contains("leader") { return leader }
        if path.contains("master") || path.contains("primary") || path.contains("read-write") { return primary }
        let status: Int
        if path.contains("replica") {
            status = replicaOK ? 200 : 503
        } else if path.contains("read-only"), !path.contains("sync"), !path.contains("quorum") {
            status = primary == 200 || replicaOK ? 200 : 503
        } else if path.contains("health") {
            status = running ? 200 : 503
        } else if let cluster {
            // The synchronous roles need a fresh view of the store.
            let listed = s.isListedStandby(in: cluster)
            let isSync = listed && s.syncMode == .priority
            let isQuorum = listed && s.syncMode == .quorum
            switch path {
            case "/sync", "/synchronous": status = isSync && replicaOK ? 200 : 503
            case "/quorum": status = isQuorum && replicaOK ? 200 : 503
            case "/async", "/asynchronous": status = !isSync && !isQuorum && replicaOK ? 200 : 503
            case "/read-only-sync", "/read-only-synchronous": status = primary == 200 || (isSync && replicaOK) ? 200 : 503
            case "/read-only-quorum": status = primary == 200 || (isQuorum && replicaOK) ? 200 : 503
            default: status = 503
            }
        } else {
            status = 503
        }
        if status == 200 && !tagsMatch(query, s.tags) { return 503 }
        return status
    }

    /// `/liveness`: the HA loop is not stuck (paused clusters always answer 200).
    public static func liveness(_ s: NodeSnapshot, now: ContinuousClock.Instant) -> Int {
        if s.paused { return 200 }
        guard let nextRun = s.nextRun else { return 200 }
        let threshold = Duration.seconds(s.role == "primary" ? s.ttl : 2 * s.ttl)
        return nextRun + threshold > now ? 200 : 503
    }

    /// `/readiness`: the leader, or a streaming replica within `lag` of the leader.
    public static func readiness(query: [String: String], snapshot s: NodeSnapshot, now: ContinuousClock.Instant) -> Int {
        if s.isLeader(at: now) { return 200 }
        guard s.isRunning, s.postgres.replicationState == "streaming" else { return 503 }
        let lag = query["lag"].flatMap(parseBytes) ?? s.maximumLagOnFailover
        let position = query["mode"] == "write" ? (s.postgres.receiveLSN ?? 0) : (s.postgres.replayLSN ?? 0)
        guard let optime = s.freshCluster(at: now)?.status?.optime else { return s.freshCluster(at: now) == nil ? 503 : 200 }
        let (behind, overflow) = optime.subtractingReportingOverflow(position)
        return !overflow && behind <= lag ? 200 : 503
    }

    static func lagOK(query: [String: String], snapshot s: NodeSnapshot, cluster: ClusterState?) -> Bool {
        guard let text = query["lag"], let lag = parseBytes(text) else { return true }
        let leaderOptime = max(cluster?.status?.optime ?? 0, s.postgres.receiveLSN ?? 0)
        guard leaderOptime > 0 else { return true }
        let (limit, overflow) = (s.postgres.replayLSN ?? 0).addingReportingOverflow(lag)
        return overflow || leaderOptime <= limit
    }

    /// Every `tag_<name>=<value>` must equal the node's tag (compared as lowercase text).
    static func tagsMatch(_ query: [String: String], _ tags: JSONValue?) -> Bool {
        for (key, wanted) in query where key.hasPrefix("tag_") {
            let name = String(key.dropFirst(4))
            guard let value = tags?[name] else { return false }
            let text: String = switch value {
            case let .string(s): s
            case let .bool(b): b ? "true" : "false"
            case let .int(i): String(i)
            default: "\(value.compactText)"
            }
            if text.lowercased() != wanted.lowercased() { return false }
        }
        return true
    }

    /// `16kB`, `10MB`, `1GB`, or plain bytes.
    public static func parseBytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            guard let number = Int64(trimmed.dropLast(unit.count).trimmingCharacters(in: .whitespaces)) else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? Int64.max : bytes
        }
        return Int64(trimmed)
    }
}
