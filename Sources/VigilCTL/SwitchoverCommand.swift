import ArgumentParser
import Foundation
import VigilCore

/// `vigilctl switchover` / `failover`: patronictl's prompts and messages; the request goes to
/// the leader's REST API (to the candidate when there is no leader), as patronictl sends it.
public struct SwitchoverCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "switchover",
                                                           abstract: "Switch the primary role to another member, now or at a given time.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The cluster (default: the config's scope).") var clusterName: String?
    @Option(name: [.customLong("leader"), .customLong("primary"), .customLong("master")], help: "The current leader.") var leader: String?
    @Option(help: "The member to promote.") var candidate: String?
    @Option(help: "When: an ISO 8601 time, or now.") var scheduled: String?
    @Flag(help: "Do not ask for confirmation.") var force = false

    public init() {}

    public func run() async throws {
        var switchover = Switchover(global: global, clusterName: clusterName, leader: leader, candidate: candidate,
                                    scheduled: scheduled, force: force, failover: false)
        try await switchover.run()
    }
}

public struct FailoverCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "failover",
                                                           abstract: "Make a given member the primary, with or without a leader.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The cluster (default: the config's scope).") var clusterName: String?
    @Option(help: "The member to promote.") var candidate: String?
    @Flag(help: "Do not ask for confirmation.") var force = false

    public init() {}

    public func run() async throws {
        var failover = Switchover(global: global, clusterName: clusterName, leader: nil, candidate: candidate, scheduled: nil,
                                  force: force, failover: true)
        try await failover.run()
    }
}

struct Switchover {
    let global: GlobalOptions
    let clusterName: String?
    var leader: String?
    var candidate: String?
    var scheduled: String?
    let force: Bool
    let failover: Bool

    var action: String { failover ? "failover" : "switchover" }

    func fail(_ message: String) -> Error {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        return ExitCode(1)
    }

    mutating func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        print("Current cluster topology")
        print(MemberTable(cluster: cluster, scope: context.scope).pretty())
        let currentLeader = cluster.leader?.name
        if !failover {
            guard let currentLeader else { throw fail("This cluster has no leader") }
            if leader == nil { leader = force ? currentLeader : Prompt.ask("Primary", default: currentLeader) }
            if leader != currentLeader { throw fail("Member \(leader ?? "") is not the leader of cluster \(context.scope)") }
        }
        let candidates = cluster.members.filter { $0.name != currentLeader && !FailoverTags($0.record.tags).nofailover }
            .map(\.name).sorted()
        if failover, candidate == nil, force { throw fail("Failover could be performed only to a specific candidate") }
        if candidate == nil, !force {
            candidate = Prompt.ask("Candidate \(Prompt.pythonList(candidates))", default: "")
            if candidate == "" { candidate = nil }
        }
        if failover && candidate == nil { throw fail("Failover could be performed only to a specific candidate") }
        if let candidate {
            if candidate == currentLeader { throw fail("Member \(candidate) is already the leader of cluster \(context.scope)") }
            if !candidates.contains(candidate) {
                throw fail("Member \(candidate) does not exist in cluster \(context.scope) or is tagged as nofailover")
            }
        }
        var scheduledAt: String?
        if !failover {
            let when = scheduled ?? (force ? "now" : Prompt.ask(
                "When should the switchover take place (e.g. \(Prompt.inAnHour)) ", default: "now"))
            if when != "now" { scheduledAt = try Prompt.isoWithZone(when) ?? { throw fail("Can't parse the timestamp \(when)") }() }
        }
        if !force {
            let question = scheduledAt.map { "Are you sure you want to schedule switchover of cluster \(context.scope) at \($0), demoting current leader \(currentLeader ?? "")?" }
                ?? (failover ? "Are you sure you want to failover cluster \(context.scope)\(currentLeader.map { ", demoting current leader \($0)" } ?? "")?"
                    : "Are you sure you want to switchover cluster \(context.scope), demoting current leader \(currentLeader ?? "")?")
            guard Prompt.confirm(question) else { throw fail("Aborting \(action)") }
        }
        var body: [(key: String, value: JSONValue)] = []
        if let leader, !failover { body.append(("leader", .string(leader))) }
        if let candidate { body.append(("candidate", .string(candidate))) }
        if let scheduledAt { body.append(("scheduled_at", .string(scheduledAt))) }
        let target = cluster.leaderMember ?? cluster.member(named: candidate ?? "")
        guard let target else { throw fail("no member to send the \(action) request to") }
        do {
            let (status, text) = try await context.request(.POST, target, "/\(failover && currentLeader == nil ? "failover" : action)",
                                                           body: .object(body))
            if status == 200 || status == 202 {
                print("\(Timestamps.now(fraction: true)) \(text)")
            } else {
                throw fail("\(action.capitalized) failed, details: \(status), \(text)")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            // As patronictl: no REST answer → write the request into the store directly.
            print("\(Timestamps.now(fraction: true)) Could not \(action) using Patroni api, falling back to DCS")
            _ = try? await context.store.setFailover(FailoverRequest(leader: failover ? nil : leader, member: candidate,
                                                                     scheduledAt: scheduledAt), expectedVersion: nil)
        }
        if let after = try? await context.readCluster() {
            print(MemberTable(cluster: after, scope: context.scope).pretty())
        }
    }
}


/// patronictl's interactive questions.
enum Prompt {
    static func ask(_ question: String, default value: String) -> String {
        print("\(question) [\(value)]: ", terminator: "")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces) ?? ""
        return answer.isEmpty ? value : answer
    }

    static func confirm(_ question: String) -> Bool {
        print("\(question) [y/N]: ", terminator: "")
        return ["y", "yes"].contains(readLine()?.lowercased().trimmingCharacters(in: .whitespaces) ?? "")
    }

    static func pythonList(_ items: [String]) -> String { "[" + items.map { "'\($0)'" }.joined(separator: ", ") + "]" }

    static var inAnHour: String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: Date().addingTimeInterval(3600))
    }

    /// A timestamp with its zone; a naive one gets the local zone (as patronictl does).
    static func isoWithZone(_ text: String) throws -> String? {
        switch ISOTime.read(text) {
        case .time: return text
        case .unparsable: return nil
        case .missingTimeZone:
            let naive = DateFormatter()
            naive.locale = Locale(identifier: "en_US_POSIX")
            for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss"] {
                naive.dateFormat = format
                if let date = naive.date(from: text) {
                    let iso = ISO8601DateFormatter()
                    iso.formatOptions = [.withInternetDateTime]
                    iso.timeZone = .current
                    return iso.string(from: date)
                }
            }
            return nil
        }
    }
}
