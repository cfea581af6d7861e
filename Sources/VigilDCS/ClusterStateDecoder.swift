import VigilCore

/// Turns the keys under a cluster prefix into a `ClusterState`. A value that cannot be read
/// (not JSON where JSON belongs, or the wrong shape) is skipped and named in `problems`: one
/// hand-edited key must not blind the whole cluster, nor crash it.
public enum ClusterStateDecoder {
    /// The JSON of each key as last parsed, by the revision that wrote it: a value never
    /// changes under one mod_revision, so a key that did not change since the last read (the
    /// config, the history, a member that has not written) is not parsed again. It holds only
    /// the keys of the last read.
    public struct Cache: Sendable {
        var parsed: [String: (revision: Int64, value: JSONValue)] = [:]
        public init() {}
    }

    public static func decode(_ kvs: [KeyValue], layout: KeyLayout, revision: Int64) -> ClusterState {
        var unused = Cache()
        return decode(kvs, layout: layout, revision: revision, cache: &unused)
    }

    public static func decode(_ kvs: [KeyValue], layout: KeyLayout, revision: Int64, cache: inout Cache) -> ClusterState {
        var state = ClusterState(revision: revision)
        var leaderKV: KeyValue?
        var kept = Cache()
        defer { cache = kept }
        for kv in kvs {
            guard let relative = layout.relative(kv.key) else { continue }
            func problem(_ message: String) { state.problems.append(KeyProblem(key: kv.key, message: message)) }
            func json() -> JSONValue? {
                if let known = cache.parsed[kv.key], known.revision == kv.modRevision {
                    kept.parsed[kv.key] = known
                    return known.value
                }
                do {
                    let value = try JSONValue.parse(kv.value)
                    kept.parsed[kv.key] = (kv.modRevision, value)
                    return value
                } catch {
                    problem("not JSON (\(error.message) at byte \(error.offset)); skipped")
                    return nil
                }
            }
            switch relative {
            case "initialize":
                state.initialize = kv.value
            case "leader":
                leaderKV = kv
            case "config":
                guard let value = json() else { continue }
                guard value.objectValue != nil else { problem("not a JSON object; skipped"); continue }
                state.config = Versioned(value, version: kv.modRevision)
            case "status":
                guard let value = json() else { continue }
                guard let status = StatusRecord(json: value) else { problem("not a status object; skipped"); continue }
                state.status = status
            case "optime/leader":
                // Legacy: a bare integer, used only when there is no `status`.
                if state.status == nil, let optime = Int64(kv.value), optime >= 0 { state.status = StatusRecord(optime: optime) }
            case "history":
                guard let value = json() else { continue }
                guard let items = value.arrayValue else { problem("not a JSON list; skipped"); continue }
                let events = items.compactMap(TimelineEvent.init(json:))
                if events.count != items.count { problem("\(items.count - events.count) unreadable entries skipped") }
                state.history = Versioned(events, version: kv.modRevision)
            case "failover":
                guard let request = FailoverRequest(text: kv.value) else {
                    problem("neither JSON nor leader:member; skipped")
                    continue
                }
                state.failover = Versioned(request, version: kv.modRevision)
            case "sync":
                guard let value = json() else { continue }
                guard let sync = SyncState(json: value) else { problem("not a sync object; skipped"); continue }
                state.sync = Versioned(sync, version: kv.modRevision)
            case "failsafe":
                guard let value = json() else { continue }
                state.failsafe = value
            default:
                guard relative.hasPrefix("members/") else { continue }
                let name = String(relative.dropFirst("members/".count))
                guard !name.isEmpty, !name.contains("/") else { continue }
                guard let value = json() else { continue }
                guard let record = MemberRecord(json: value) else { problem("not a JSON object; skipped"); continue }
                state.members.append(Member(name: name, record: record, version: kv.modRevision,
                                            lease: kv.lease == 0 ? nil : kv.lease))
            }
        }
        if let leaderKV {
            state.leader = LeaderLock(name: leaderKV.value, version: leaderKV.modRevision,
                                      lease: leaderKV.lease == 0 ? nil : leaderKV.lease)
        }
        state.members.sort { $0.name < $1.name }
        return state
    }
}
