import Foundation
import VigilCore

/// `GET /metrics`: Patroni's metric names and labels (spec §1.4), so existing dashboards keep
/// working, then Vigil's own: the HA cycle's duration, the lease time left, role changes.
public enum MetricsDocument {
    public static func render(_ s: NodeSnapshot, now: ContinuousClock.Instant = .now) -> String {
        let labels = "{scope=\"\(escape(s.scope))\",name=\"\(escape(s.name))\"}"
        var out: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: String, extra: String? = nil) {
            out.append("# HELP \(name) \(help)")
            out.append("# TYPE \(name) \(type)")
            if let extra { out.append(extra) }
            out.append("\(name)\(labels) \(value)")
        }
        let pg = s.postgres
        let running = s.isRunning
        let replica = running && pg.role == .replica
        let cluster = s.freshCluster(at: now)
        metric("patroni_version", "gauge", "Patroni semver without periods.", "040105")
        metric("patroni_postgres_running", "gauge", "Value is 1 if Postgres is running, 0 otherwise.", running ? "1" : "0")
        metric("patroni_postmaster_start_time", "gauge", "Epoch seconds since Postgres started.",
               pg.postmasterStartTime.flatMap(epoch).map { String(format: "%.6f", $0) } ?? "0")
        metric("patroni_primary", "gauge", "Value is 1 if this node is the leader, 0 otherwise.", running && pg.role == .primary ? "1" : "0")
        metric("patroni_xlog_location", "counter", "Current location of the Postgres transaction log, 0 if this node is not the leader.",
               running && pg.role == .primary ? String(pg.walPosition ?? 0) : "0")
        metric("patroni_standby_leader", "gauge", "Value is 1 if this node is the standby_leader, 0 otherwise.", "0")
        metric("patroni_replica", "gauge", "Value is 1 if this node is a replica, 0 otherwise.", replica ? "1" : "0")
        let listed = s.isListedStandby(in: cluster)
        metric("patroni_sync_standby", "gauge", "Value is 1 if this node is a sync standby, 0 otherwise.",
               listed && s.syncMode == .priority ? "1" : "0")
        metric("patroni_quorum_standby", "gauge", "Value is 1 if this node is a quorum standby, 0 otherwise.",
               listed && s.syncMode == .quorum ? "1" : "0")
        metric("patroni_xlog_received_location", "counter", "Current location of the received Postgres transaction log, 0 if this node is not a replica.",
               replica ? String(pg.receiveLSN ?? 0) : "0")
        metric("patroni_xlog_replayed_location", "counter", "Current location of the replayed Postgres transaction log, 0 if this node is not a replica.",
               replica ? String(pg.replayLSN ?? 0) : "0")
        metric("patroni_xlog_replayed_timestamp", "gauge", "Current timestamp of the replayed Postgres transaction log, 0 if null.", "0")
        metric("patroni_xlog_paused", "gauge", "Value is 1 if the Postgres xlog is paused, 0 otherwise.", "0")
        metric("patroni_postgres_streaming", "gauge", "Value is 1 if Postgres is streaming, 0 otherwise.",
               replica && pg.replicationState == "streaming" ? "1" : "0")
        metric("patroni_postgres_in_archive_recovery", "gauge", "Value is 1 if Postgres is replicating from archive, 0 otherwise.",
               replica && pg.replicationState == "in archive recovery" ? "1" : "0")
        metric("patroni_postgres_server_version", "gauge", "Version of Postgres (if running), 0 otherwise.",
               running ? String(pg.serverVersion ?? 0) : "0")
        metric("patroni_cluster_unlocked", "gauge", "Value is 1 if the cluster is unlocked, 0 if locked.",
               cluster?.isUnlocked ?? true ? "1" : "0")
        metric("patroni_failsafe_mode_is_active", "gauge", "Value is 1 if failsafe mode is active, 0 if inactive.", "0")
        metric("patroni_postgres_timeline", "gauge", "Postgres timeline of this node (if running), 0 otherwise.",
               running ? String(pg.timeline ?? 0) : "0")
        metric("patroni_dcs_last_seen", "gauge", "Epoch timestamp when DCS was last contacted successfully by Patroni.",
               String(s.dcsLastSeen ?? 0))
        metric("patroni_pending_restart", "gauge", "Value is 1 if the node needs a restart, 0 otherwise.",
               pg.pendingRestart.isEmpty ? "0" : "1")
        metric("patroni_is_paused", "gauge", "Value is 1 if auto failover is disabled, 0 otherwise.", s.paused ? "1" : "0")
        metric("patroni_postgres_state", "gauge", "Numeric representation of Postgres state.", String(stateIndex(s)),
               extra: "# Values: 0=initdb, 1=initdb_failed, 2=custom_bootstrap, 3=custom_bootstrap_failed, 4=creating_replica, 5=running, 6=starting, 7=bootstrap_starting, 8=start_failed, 9=restarting, 10=restart_failed, 11=stopping, 12=stopped, 13=stop_failed, 14=crashed")

        // Vigil's own.
        // On the leader in synchronous mode: the standbys the sync key names. 0 in non-strict mode
        // means commits are acknowledged without a standby (degraded); -1: not applicable.
        let syncCount: Int
        if s.syncMode != .off, s.isLeader(at: now), let sync = cluster?.sync?.value, sync.leaderMatches(s.name) {
            syncCount = sync.voters.count
        } else {
            syncCount = -1
        }
        metric("vigil_synchronous_standbys", "gauge",
               "On the leader in synchronous mode, the standbys the sync key names as synchronous (0: commits wait for none, or for any in strict mode); -1 otherwise.",
               String(syncCount))
        let left = s.leaderUntil.map { max(0, ($0 - now).inSeconds) } ?? 0
        metric("vigil_leader_lease_seconds_left", "gauge", "Seconds this node may still act as leader without renewing the lock (0 if not the leader).",
               String(format: "%.3f", left))
        let fenceState = switch s.fence { case .disarmed: "0"; case .armed: "1"; case .failing: "-1" }
        metric("vigil_fence_armed", "gauge",
               "1 while the fence outside the agent would stop PostgreSQL if the lease is not renewed in time, 0 when disarmed (not a primary), -1 when it cannot be told.",
               fenceState)
        let fenceLeft = if case let .armed(until) = s.fence { max(0, (until - now).inSeconds) } else { 0.0 }
        metric("vigil_fence_seconds_left", "gauge", "Seconds until the fence stops PostgreSQL unless the lease is renewed (0 when not armed).",
               String(format: "%.3f", fenceLeft))
        let watchdogState = switch s.watchdog { case .off: "0"; case .running: "1"; case .failed: "-1" }
        metric("vigil_watchdog_running", "gauge",
               "1 while the fence keeps a watchdog device alive (the host is reset if the fence itself stops), 0 when none runs, -1 when one was asked for and could not be started.",
               watchdogState)
        out.append("# HELP vigil_ha_cycle_seconds Duration of the HA loop's cycles (observe, decide, act).")
        out.append("# TYPE vigil_ha_cycle_seconds histogram")
        let base = "scope=\"\(escape(s.scope))\",name=\"\(escape(s.name))\""
        /// Prometheus' cumulative buckets, then the sum and the count.
        func histogram(_ name: String, _ labels: String, _ h: CycleHistogram) {
            var cumulative: Int64 = 0
            for (bound, count) in zip(CycleHistogram.bounds, h.counts) {
                cumulative += count
                out.append("\(name)_bucket{\(labels),le=\"\(bound)\"} \(cumulative)")
            }
            out.append("\(name)_bucket{\(labels),le=\"+Inf\"} \(h.total)")
            out.append("\(name)_sum{\(labels)} \(String(format: "%.6f", h.sum))")
            out.append("\(name)_count{\(labels)} \(h.total)")
        }
        histogram("vigil_ha_cycle_seconds", base, s.cycles)
        out.append("# HELP vigil_store_call_seconds Duration of calls to the store (etcd), by call, retries included.")
        out.append("# TYPE vigil_store_call_seconds histogram")
        for (call, h) in s.storeCalls.sorted(by: { $0.key < $1.key }) {
            histogram("vigil_store_call_seconds", "\(base),call=\"\(escape(call))\"", h)
        }
        out.append("# HELP vigil_role_changes_total Promotions and demotions of this node, by reason.")
        out.append("# TYPE vigil_role_changes_total counter")
        for (reason, count) in s.roleChanges.sorted(by: { $0.key < $1.key }) {
            out.append("vigil_role_changes_total{\(base),reason=\"\(escape(reason))\"} \(count)")
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func stateIndex(_ s: NodeSnapshot) -> Int {
        switch s.busyWith {
        case "initializing new cluster": return 0
        case "creating replica": return 4
        case "restarting": return 9
        default: break
        }
        switch s.postgres.state {
        case .running: return 5
        case .starting: return 6
        case .stopping: return 11
        case .stopped, .uninitialized: return 12
        case .crashed: return 14
        }
    }

    /// PostgreSQL's `2026-11-27 10:00:00.123456+00` as epoch seconds.
    static func epoch(_ text: String) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["yyyy-MM-dd HH:mm:ss.SSSSSSX", "yyyy-MM-dd HH:mm:ss.SSSSSX", "yyyy-MM-dd HH:mm:ss.SSSSX",
                       "yyyy-MM-dd HH:mm:ss.SSSX", "yyyy-MM-dd HH:mm:ss.SSX", "yyyy-MM-dd HH:mm:ss.SX", "yyyy-MM-dd HH:mm:ssX"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// Counts of HA cycle durations in fixed buckets (seconds).
public struct CycleHistogram: Sendable, Equatable {
    public static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    public var counts = [Int64](repeating: 0, count: CycleHistogram.bounds.count)
    public var total: Int64 = 0
    public var sum: Double = 0

    public init() {}

    public mutating func record(_ seconds: Double) {
        total += 1
        sum += seconds
        if let i = Self.bounds.firstIndex(where: { seconds <= $0 }) { counts[i] += 1 }
    }
}
