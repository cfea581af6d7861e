import VigilCore

/// The body of `GET /patroni` and of every GET health check, field for field as Patroni
/// writes it (spec §1.3): peers read `xlog`, `role`, `tags` and `timeline` from it during a
/// leader race, monitoring reads the rest.
public enum StatusDocument {
    public static func json(_ s: NodeSnapshot, now: ContinuousClock.Instant = .now) -> JSONValue {
        var o: [(key: String, value: JSONValue)] = []
        let pg = s.postgres
        o.append(("state", .string(s.stateText)))
        if s.isRunning {
            if let started = pg.postmasterStartTime { o.append(("postmaster_start_time", .string(pythonTimestamp(started)))) }
            o.append(("role", .string(s.role)))
            if let version = pg.serverVersion { o.append(("server_version", .int(version))) }
            if pg.role == .primary {
                o.append(("xlog", ["location": .int(pg.walPosition ?? 0)]))
            } else {
                let replayed = pg.replayLSN ?? 0
                o.append(("xlog", .object([("received_location", .int(pg.receiveLSN ?? replayed)),
                                           ("replayed_location", .int(replayed)),
                                           ("replayed_timestamp", .null), ("paused", .bool(false))])))
            }
            if s.isListedStandby(in: s.freshCluster(at: now)) {
                o.append((s.syncMode == .quorum ? "quorum_standby" : "sync_standby", true))
            }
            if let timeline = pg.timeline { o.append(("timeline", .int(timeline))) }
            if pg.role == .replica, let replicationState = pg.replicationState {
                o.append(("replication_state", .string(replicationState)))
            }
            if pg.role == .primary, !pg.replication.isEmpty {
                o.append(("replication", .array(pg.replication.map { r in
                    .object([("application_name", .string(r.applicationName)),
                             ("client_addr", r.clientAddress.map(JSONValue.string) ?? .null),
                             ("state", .string(r.state)), ("sync_state", .string(r.syncState)),
                             ("sync_priority", .int(r.syncPriority ?? 0))])
                })))
            }
        } else {
            o.append(("role", .string(s.role)))
        }
        let cluster = s.freshCluster(at: now)
        if s.paused { o.append(("pause", true)) }
        if cluster?.isUnlocked ?? true { o.append(("cluster_unlocked", true)) }
        if let seen = s.dcsLastSeen { o.append(("dcs_last_seen", .int(seen))) }
        if let tags = s.tags, case let .object(entries) = tags, !entries.isEmpty { o.append(("tags", tags)) }
        if let sysid = pg.systemIdentifier { o.append(("database_system_identifier", .string(sysid))) }
        if !pg.pendingRestart.isEmpty { o.append(("pending_restart", true)) }
        // Vigil's own: the fence that stops this node's PostgreSQL when its lease is not renewed.
        var fence: [(String, JSONValue)] = [("state", .string(s.fence.name))]
        if case let .armed(until) = s.fence {
            fence.append(("seconds_left", .double(((until - now).inSeconds * 1000).rounded() / 1000)))
        }
        if case let .failing(reason) = s.fence { fence.append(("error", .string(reason))) }
        switch s.watchdog {
        case .off: break
        case let .running(timeout): fence.append(("watchdog", .object([("state", "running"), ("timeout", .int(Int64(timeout)))])))
        case let .failed(why): fence.append(("watchdog", .object([("state", "failed"), ("error", .string(why))])))
        }
        o.append(("fence", .object(fence)))
        o.append(("patroni", .object([("version", .string(s.version)), ("scope", .string(s.scope)),
                                      ("name", .string(s.name))])))
        if s.watchdogFailed { o.append(("watchdog_failed", true)) }
        return .object(o)
    }

    /// PostgreSQL prints `2026-11-27 10:00:00.123+00`; Python prints the offset as `+00:00`.
    static func pythonTimestamp(_ text: String) -> String {
        guard text.count > 3 else { return text }
        let suffix = text.suffix(3)
        if (suffix.first == "+" || suffix.first == "-"), suffix.dropFirst().allSatisfy(\.isNumber) { return text + ":00" }
        return text
    }
}
