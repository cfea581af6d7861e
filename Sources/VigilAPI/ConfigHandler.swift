import VigilConfig
import VigilCore

/// `PATCH /config` (a JSON merge patch, compare-and-swap on the key's version) and
/// `PUT /config` (replace), spec §1.5.
struct ConfigHandler: Sendable {
    let control: any ClusterControl

    func patch(_ body: JSONValue) async -> (Int, JSONValue?, String) {
        guard let cluster = try? await control.readCluster() else { return (503, nil, "failed to read the cluster from the store") }
        guard let current = cluster.config else { return (503, nil, "config is not set in the store") }
        let merged = current.value.merged(with: body, keepingEqualText: true)
        if merged == current.value { return (200, merged, "") }
        // Written unchecked, a value no agent can use would reach every agent at once.
        if let problem = DynamicConfig.firstUnusableValue(in: merged) { return (400, nil, problem) }
        do {
            guard try await control.setConfig(merged, expectedVersion: current.version) else {
                return (409, nil, "Config modification aborted due to concurrent changes")
            }
        } catch {
            return (503, nil, "failed to write the config key: \(error)")
        }
        return (200, merged, "")
    }

    func put(_ body: JSONValue) async -> (Int, JSONValue?, String) {
        if let cluster = try? await control.readCluster(), cluster.config?.value == body { return (200, body, "") }
        if let problem = DynamicConfig.firstUnusableValue(in: body) { return (400, nil, problem) }
        guard (try? await control.setConfig(body, expectedVersion: nil)) == true else {
            return (502, nil, "failed to write the config key")
        }
        return (200, body, "")
    }
}

/// `POST /restart`, `DELETE /restart`, `POST /reinitialize`, `POST /reload` (spec §1.5).
struct NodeHandler: Sendable {
    let control: any ClusterControl
    let snapshot: NodeSnapshot

    func restart(_ body: JSONValue?) async -> (Int, String) {
        let known: Set<String> = ["schedule", "role", "postgres_version", "timeout", "restart_pending"]
        if let unknown = body?.objectValue?.first(where: { !known.contains($0.key) }) {
            return (400, "Unknown filter for the scheduled restart: \(unknown.key)")
        }
        var request = RestartRequest()
        if let role = body?["role"] {
            guard let text = role.stringValue, ["primary", "master", "replica", "standby_leader"].contains(text) else {
                return (400, "PostgreSQL role should be either primary, standby_leader, or replica")
            }
            request.role = text == "master" ? "primary" : text
        }
        if let version = body?["postgres_version"] {
            guard let text = version.stringValue, text.range(of: #"^\d+(\.\d+){0,2}$"#, options: .regularExpression) != nil else {
                return (400, "PostgreSQL version should be in the first.major.minor format")
            }
            request.postgresVersion = text
        }
        if let timeout = body?["timeout"] {
            guard let seconds = timeout.intValue ?? timeout.stringValue.flatMap({ Int64($0) }), seconds > 0,
                  seconds <= DynamicConfig.seconds.upperBound else {
                return (400, "Timeout should be a positive number of seconds")
            }
            request.timeout = Int(seconds)
        }
        request.onlyIfPending = body?["restart_pending"] != nil
        if let schedule = body?["schedule"]?.stringValue {
            if snapshot.paused { return (500, "Can't schedule restart in the paused state") }
            switch ISOTime.read(schedule) {
            case .missingTimeZone: return (400, "Timezone information is mandatory for the scheduled restart")
            case .unparsable: return (422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601")
            case let .time(at):
                request.schedule = schedule
                return await control.perform(.scheduleRestart(request, at: at))
            }
        }
        return await control.perform(.restart(request))
    }

    func reinitialize(_ body: JSONValue?) async -> (Int, String) {
        guard let cluster = try? await control.readCluster() else { return (503, "failed to read the cluster from the store") }
        guard let leader = cluster.leader?.name else { return (503, "Cluster has no leader, can not reinitialize") }
        if leader == snapshot.name { return (503, "I am the leader, can not reinitialize") }
        return await control.perform(.reinitialize(force: body?["force"] == .bool(true),
                                                   fromLeader: body?["from_leader"] == .bool(true)))
    }
}
