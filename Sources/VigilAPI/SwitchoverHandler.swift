import Foundation
import VigilConfig
import VigilCore

/// `POST /switchover`, `POST /failover` and `DELETE /switchover`, with Patroni's checks,
/// codes and messages in Patroni's order (spec §1.5).
struct SwitchoverHandler: Sendable {
    let control: any ClusterControl
    let paused: Bool

    func post(_ body: JSONValue, failover: Bool) async -> (Int, String) {
        let action = failover ? "failover" : "switchover"
        // A member name given as anything but text is a mistake to name, not a name to look up.
        for field in ["leader", "candidate", "member", "scheduled_at"] {
            if let value = body[field], value != .null, value.stringValue == nil { return (400, "\(field) must be a string") }
        }
        let leader = body["leader"]?.stringValue
        let candidate = body["candidate"]?.stringValue ?? body["member"]?.stringValue
        let scheduledText = body["scheduled_at"]?.stringValue
        // A failover that names a leader is a switchover.
        let isFailover = failover && leader == nil
        if failover && candidate == nil { return (400, "Failover could be performed only to a specific candidate") }
        if !failover && leader == nil { return (400, "Switchover could be performed only from a specific leader") }
        if failover && scheduledText != nil { return (400, "Failover can't be scheduled") }
        var scheduledAt: Double?
        if let scheduledText {
            if paused { return (400, "Can't schedule switchover in the paused state") }
            switch ISOTime.read(scheduledText) {
            case .missingTimeZone: return (400, "Timezone information is mandatory for the scheduled switchover")
            case .unparsable: return (422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601")
            case let .time(when):
                if when < Date().timeIntervalSince1970 { return (422, "Can't schedule switchover in the past") }
                scheduledAt = when
            }
        }
        if paused && candidate == nil { return (400, "Switchover is possible only to a specific candidate in a paused state") }
        if let leader, leader == candidate { return (400, "Switchover target and source are the same") }

        let cluster: ClusterState
        do {
            cluster = try await control.readCluster()
        } catch {
            return (503, "failed to read the cluster from the store: \(error)")
        }
        if scheduledAt == nil, let refusal = await precheck(cluster, leader: leader, candidate: candidate, action: action) {
            return refusal
        }
        let request = FailoverRequest(leader: leader, member: candidate, scheduledAt: scheduledText)
        do {
            guard try await control.setFailover(request, expectedVersion: nil) else {
                return (503, "failed to write failover key into DCS")
            }
        } catch {
            return (503, "failed to write failover key into DCS")
        }
        if scheduledAt != nil { return (202, "Switchover scheduled") }
        return await awaitOutcome(from: cluster.leader?.name, candidate: candidate, failover: isFailover)
    }

    /// The checks Patroni makes before writing an immediate request (412 when they fail).
    func precheck(_ cluster: ClusterState, leader: String?, candidate: String?, action: String) async -> (Int, String)? {
        if let leader, cluster.leader?.name != leader { return (412, "leader name does not match") }
        // In priority synchronous mode only a member the sync key names has every acknowledged
        // commit: a switchover goes to one of them (a failover may go anywhere, on purpose).
        let mode = cluster.syncMode
        let sync = cluster.sync?.value
        let candidates: [Member]
        if let candidate {
            if action == "switchover", mode == .priority, sync?.matches(candidate) != true {
                return (412, "candidate name does not match with sync_standby")
            }
            candidates = cluster.members.filter { $0.name == candidate }
            if candidates.isEmpty { return (412, "candidate does not exists") }
        } else if mode == .priority {
            candidates = cluster.members.filter { sync?.matches($0.name) == true }
            if candidates.isEmpty { return (412, "\(action) is not possible: can not find sync_standby") }
        } else {
            candidates = cluster.members.filter { $0.name != cluster.leader?.name }
            if candidates.isEmpty { return (412, "\(action) is not possible: cluster does not have members except leader") }
        }
        var good = false
        for member in candidates {
            let status = await control.peerStatus(member)
            if Candidacy.refusal(status) == nil { good = true }
        }
        return good ? nil : (412, "\(action) is not possible: no good candidates have been found")
    }

    /// Polls the store once a second for 2·max(10, loop_wait) seconds for the new leader.
    func awaitOutcome(from oldLeader: String?, candidate: String?, failover: Bool) async -> (Int, String) {
        let rounds = 2 * max(10, await control.loopWait)
        for _ in 0..<rounds {
            try? await Task.sleep(for: .seconds(1))
            guard let cluster = try? await control.readCluster() else { continue }
            if let leader = cluster.leader?.name, leader != oldLeader {
                if let candidate, candidate != leader { return (200, "Switched over to \"\(leader)\" instead of \"\(candidate)\"") }
                return (200, failover ? "Successfully failed over to \"\(leader)\"" : "Successfully switched over to \"\(leader)\"")
            }
            if cluster.failover?.value.isEmpty ?? true, cluster.leader?.name == oldLeader, oldLeader != nil {
                return (503, "Switchover failed")
            }
        }
        return (503, "Switchover status unknown")
    }

    /// `DELETE /switchover`: clears a scheduled switchover.
    func delete() async -> (Int, String) {
        guard let cluster = try? await control.readCluster() else { return (503, "failed to read the cluster from the store") }
        guard let request = cluster.failover, request.value.scheduledAt != nil else { return (404, "no switchover is scheduled") }
        guard (try? await control.setFailover(FailoverRequest(), expectedVersion: request.version)) == true else {
            return (409, "the switchover request changed meanwhile")
        }
        return (200, "scheduled switchover deleted")
    }
}
