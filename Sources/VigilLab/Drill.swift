import AsyncHTTPClient
import Foundation
import NIOCore
import VigilCore
#if canImport(Glibc)
import Glibc
#endif

/// The faults a drill injects into the lab's primary.
public enum DrillKind: String, Sendable, CaseIterable {
    /// kill -9 of the primary's agent and PostgreSQL: a power cut.
    case killPrimary = "kill-primary"
    /// SIGTERM to the primary's agent, as `systemctl stop` (the guide's own failover test).
    case stopPrimary = "stop-primary"
    /// A planned switchover through the REST API.
    case switchover
}

/// What a drill measured, as printed and as written to `<lab>/reports/`.
public struct DrillReport: Sendable {
    public var kind: DrillKind
    public var agent: LabAgent
    public var profile: LabProfile
    public var oldLeader: String
    public var newLeader: String
    /// From the last acknowledged write before the fault to the first one after it.
    public var writeDowntime: Double
    public var acknowledged: Int
    public var lost: Int
    public var failedAttempts: Int
    /// From the old primary's agent being started again (or the switchover) to it streaming.
    public var rejoin: Double?

    var json: JSONValue {
        var o: [(key: String, value: JSONValue)] = [
            ("drill", .string(kind.rawValue)), ("agent", .string(agent.rawValue)), ("profile", .string(profile.rawValue)),
            ("old_leader", .string(oldLeader)), ("new_leader", .string(newLeader)),
            ("write_downtime_seconds", .double((writeDowntime * 1000).rounded() / 1000)),
            ("acknowledged_writes", .int(Int64(acknowledged))), ("lost_writes", .int(Int64(lost))),
            ("failed_attempts", .int(Int64(failedAttempts))),
        ]
        if let rejoin { o.append(("rejoin_seconds", .double((rejoin * 1000).rounded() / 1000))) }
        return .object(o)
    }
}

extension Lab {
    /// Runs one drill against the running lab: a write probe through HAProxy, the fault, the
    /// wait for writes to succeed again and for the old primary to stream again, then the
    /// count of acknowledged writes missing from the new primary.
    public func drill(_ kind: DrillKind) async throws -> DrillReport {
        let user = try LabUser.forLab()
        guard try await clusterAnswers(), let cluster = try? await store().readCluster(), let leaderName = cluster.leader?.name,
              let leader = layout.nodes.first(where: { $0.name == leaderName }) else {
            throw LabError("the lab is not up with a leader; start it with: vigilctl lab up")
        }
        let probe = WriteProbe(host: layout.haproxyHost, port: layout.writePort, password: LabFiles.superuserPassword)
        do {
            try await probe.prepare()
        } catch {
            throw LabError("cannot write through HAProxy at \(layout.haproxyHost):\(layout.writePort): \(error)")
        }
        let writer = Task { await probe.run() }
        defer { writer.cancel() }
        try await Task.sleep(for: .seconds(2))
        var faultAt = ContinuousClock.now
        var rejoinFrom: ContinuousClock.Instant?
        switch kind {
        case .killPrimary:
            say("drill \(kind.rawValue): kill -9 of \(leaderName)'s agent and PostgreSQL")
            let postmaster = postmasterPID(leader)
            _ = try await Shell.run("/usr/bin/pkill", ["-KILL", "-f", agentPattern(leader)])
            if let postmaster { kill(postmaster, SIGKILL) }
        case .stopPrimary:
            say("drill \(kind.rawValue): SIGTERM to \(leaderName)'s agent (systemctl stop)")
            _ = try await Shell.run("/usr/bin/pkill", ["-TERM", "-f", agentPattern(leader)])
        case .switchover:
            guard let candidate = layout.nodes.first(where: { $0.name != leaderName }) else { throw LabError("no other member") }
            say("drill \(kind.rawValue): POST /switchover from \(leaderName) to \(candidate.name)")
            var request = HTTPClientRequest(url: "http://\(leader.host):\(leader.restPort)/switchover")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"leader":"\#(leaderName)","candidate":"\#(candidate.name)"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let body = String(buffer: try await response.body.collect(upTo: 4096))
            say("  the API answered \(response.status.code): \(body)")
            rejoinFrom = ContinuousClock.now
        }
        if kind != .switchover {
            // A write already in flight may still be acknowledged as the signal lands: the fault
            // counts from when it has surely taken effect.
            try await Task.sleep(for: .milliseconds(100))
            faultAt = ContinuousClock.now
        }
        let newLeader = try await waitForLeader(other: kind == .switchover ? nil : leaderName)
        let fault = faultAt
        try await wait("writes to succeed again", seconds: 180) {
            probe.acknowledged.last.map { $0.at > fault } ?? false
        }
        if kind != .switchover {
            // Wait for the agent to be gone (SIGTERM takes a moment), then start it again.
            try await wait("the old agent to exit", seconds: 60) { !(await agentRunning(leader)) }
            rejoinFrom = ContinuousClock.now
            try await startAgent(leader, user: user)
        }
        try await wait("\(leaderName) to stream again", seconds: 180) {
            guard let now = try? await store().readCluster() else { return false }
            return now.member(named: leaderName)?.record.replicationState == "streaming" && now.leader?.name != leaderName
        }
        let rejoin = rejoinFrom.map { (ContinuousClock.now - $0).inSeconds }
        try await Task.sleep(for: .seconds(1))
        writer.cancel()
        _ = await writer.value
        let acked = probe.acknowledged
        let present = try await probe.presentIDs()
        let lost = acked.filter { !present.contains($0.id) }.count
        // The longest stretch without an acknowledged write, from the last one before the fault on
        // (a switchover's outage happens while its request is still running).
        let start = acked.lastIndex(where: { $0.at <= fault }) ?? 0
        var longest = Duration.zero
        for i in acked.indices.dropFirst(start + 1) { longest = max(longest, acked[i].at - acked[i - 1].at) }
        let report = DrillReport(kind: kind, agent: agent, profile: profile, oldLeader: leaderName, newLeader: newLeader,
                                 writeDowntime: longest.inSeconds, acknowledged: acked.count, lost: lost,
                                 failedAttempts: probe.failedAttempts, rejoin: rejoin)
        say(String(format: "  writes through HAProxy stopped for %.2f s; the primary is now %@", report.writeDowntime, newLeader))
        say("  acknowledged writes: \(report.acknowledged), lost: \(report.lost)")
        if let rejoin { say(String(format: "  %@ streams again %.2f s after %@", leaderName, rejoin,
                                   kind == .switchover ? "the switchover returned" : "its agent was started again")) }
        try saveReport(report)
        return report
    }

    /// The leader once one runs as primary (one other than `other`, when given).
    func waitForLeader(other: String? = nil) async throws -> String {
        var name = ""
        try await wait(other.map { "a leader other than \($0)" } ?? "a leader", seconds: 120) {
            guard let cluster = try? await store().readCluster(), let leader = cluster.leader?.name, leader != other,
                  cluster.member(named: leader)?.record.role == "primary" else { return false }
            name = leader
            return true
        }
        return name
    }

    func postmasterPID(_ node: LabLayout.Node) -> pid_t? {
        guard let text = try? String(contentsOfFile: layout.nodeDirectory(node) + "/data/postmaster.pid", encoding: .utf8),
              let pid = pid_t(text.split(separator: "\n").first ?? "") else { return nil }
        return pid
    }

    func saveReport(_ report: DrillReport) throws {
        let dir = layout.path("reports")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let stamp = Int(Date().timeIntervalSince1970)
        let path = "\(dir)/\(report.agent.rawValue)-\(report.kind.rawValue)-\(stamp).json"
        FileManager.default.createFile(atPath: path, contents: Data((report.json.compactText + "\n").utf8))
        say("  report: \(path)")
    }
}
