import ArgumentParser
import Foundation
import VigilCore

/// The members a per-member command acts on: those named, else every member in `role`.
struct MemberSelection {
    static func pick(_ cluster: ClusterState, names: [String], role: String) throws -> [Member] {
        if !names.isEmpty {
            return try names.map { name in
                guard let member = cluster.member(named: name) else { throw CtlError("\(name) is not a member of the cluster") }
                return member
            }
        }
        let leader = cluster.leader?.name
        return cluster.members.sorted { $0.name < $1.name }.filter { member in
            switch role {
            case "leader", "primary", "master": member.name == leader
            case "replica", "standby": member.name != leader
            default: true
            }
        }
    }
}

/// `vigilctl restart CLUSTER [MEMBER...]`: POST /restart on each, as patronictl.
public struct RestartCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart PostgreSQL on members.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String
    @Argument var memberNames: [String] = []
    @Option(name: [.customShort("r"), .customLong("role")]) var role = "any"
    @Flag(name: .customLong("any"), help: "Restart a single member only.") var anyOne = false
    @Option(help: "When: an ISO 8601 time with its zone.") var scheduled: String?
    @Option(name: .customLong("pg-version"), help: "Only if the running version is lower.") var pgVersion: String?
    @Flag(help: "Only members with a pending restart.") var pending = false
    @Option(help: "Give up waiting for the start after this many seconds.") var timeout: Int?
    @Flag(help: "Do not ask for confirmation.") var force = false
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        var members = try userFacing { try MemberSelection.pick(cluster, names: memberNames, role: role) }
        if pending && scheduled == nil { members = members.filter { $0.record.pendingRestart } }
        if anyOne { members = Array(members.prefix(1)) }
        print(MemberTable(cluster: cluster, scope: context.scope).pretty())
        if !force, !Prompt.confirm("Are you sure you want to restart members \(members.map(\.name).joined(separator: ", "))?") {
            throw CtlError("Aborted restart")
        }
        var body: [(key: String, value: JSONValue)] = []
        if let scheduled { body.append(("schedule", .string(try Prompt.isoWithZone(scheduled) ?? scheduled))) }
        if let pgVersion { body.append(("postgres_version", .string(pgVersion))) }
        if pending { body.append(("restart_pending", true)) }
        if let timeout { body.append(("timeout", .int(Int64(timeout)))) }
        for member in members {
            if force && scheduled != nil { _ = try? await context.request(.DELETE, member, "/restart") }
            guard let (status, text) = try? await context.request(.POST, member, "/restart", body: .object(body)) else {
                print("Failed: restart for member \(member.name), no answer from its REST API")
                continue
            }
            switch status {
            case 200: print("Success: restart on member \(member.name)")
            case 202: print("Success: restart scheduled on member \(member.name)")
            case 409: print("Failed: another restart is already scheduled on member \(member.name)")
            default: print("Failed: restart for member \(member.name), status code=\(status), (\(text))")
            }
        }
    }
}

/// `vigilctl reload CLUSTER [MEMBER...]`: POST /reload.
public struct ReloadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "reload", abstract: "Reload the configuration on members.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String
    @Argument var memberNames: [String] = []
    @Option(name: [.customShort("r"), .customLong("role")]) var role = "any"
    @Flag var force = false
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let members = try userFacing { try MemberSelection.pick(cluster, names: memberNames, role: role) }
        print(MemberTable(cluster: cluster, scope: context.scope).pretty())
        if !force, !Prompt.confirm("Are you sure you want to reload members \(members.map(\.name).joined(separator: ", "))?") {
            throw CtlError("Aborted reload")
        }
        let loopWait = cluster.config?.value["loop_wait"]?.intValue ?? 10
        for member in members {
            guard let (status, text) = try? await context.request(.POST, member, "/reload") else {
                print("Failed: reload for member \(member.name), no answer from its REST API")
                continue
            }
            switch status {
            case 200: print("No changes to apply on member \(member.name)")
            case 202: print("Reload request received for member \(member.name) and will be processed within \(loopWait) seconds")
            default: print("Failed: reload for member \(member.name), status code=\(status), (\(text))")
            }
        }
    }
}

/// `vigilctl reinit CLUSTER MEMBER...`: a fresh copy of the leader's data on replicas.
public struct ReinitCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "reinit", abstract: "Rebuild replicas from the leader.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String
    @Argument var memberNames: [String] = []
    @Flag var force = false
    @Flag(name: .customLong("from-leader")) var fromLeader = false
    @Flag(help: "Wait until the copies are done.") var wait = false
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let members = try userFacing { try MemberSelection.pick(cluster, names: memberNames, role: "replica") }
        print(MemberTable(cluster: cluster, scope: context.scope).pretty())
        for member in members {
            if !force, !Prompt.confirm("Are you sure you want to reinitialize members \(member.name)?") { continue }
            let body: JSONValue = ["force": .bool(force), "from_leader": .bool(fromLeader)]
            guard let (status, text) = try? await context.request(.POST, member, "/reinitialize", body: body) else {
                print("Failed: reinitialize for member \(member.name), no answer from its REST API")
                continue
            }
            if status == 200 {
                print("Success: reinitialize for member \(member.name)")
                if wait {
                    print("Waiting for reinitialize to complete on: \(member.name)")
                    while true {
                        try await Task.sleep(for: .seconds(2))
                        guard let (_, state) = try? await context.request(.GET, member, "/patroni"),
                              state.contains("\"creating replica\"") else { break }
                    }
                    print("Reinitialize is completed on: \(member.name)")
                }
            } else {
                print("Failed: reinitialize for member \(member.name), status code=\(status), (\(text))")
            }
        }
    }
}

/// `vigilctl flush CLUSTER [MEMBER...] restart|switchover`: drop what is scheduled.
public struct FlushCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "flush", abstract: "Discard scheduled restarts or a scheduled switchover.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String
    @Argument(help: "Members, then what to flush: restart or switchover.") var words: [String]
    @Option(name: [.customShort("r"), .customLong("role")]) var role = "any"
    @Flag var force = false
    public init() {}

    public func run() async throws {
        guard let target = words.last, ["restart", "switchover"].contains(target) else {
            throw ValidationError("say what to flush: restart or switchover")
        }
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        if target == "switchover" {
            let order = (cluster.leaderMember.map { [$0] } ?? []) + cluster.members.filter { $0.name != cluster.leader?.name }
            for member in order {
                guard let (status, _) = try? await context.request(.DELETE, member, "/switchover") else { continue }
                print(status == 200 ? "Success: scheduled switchover deleted" : "No pending scheduled switchover")
                return
            }
            if let request = cluster.failover, request.value.scheduledAt != nil,
               (try? await context.store.setFailover(FailoverRequest(), expectedVersion: request.version)) == true {
                print("Success: scheduled switchover deleted")
            } else {
                print("No pending scheduled switchover")
            }
            return
        }
        let members = try userFacing { try MemberSelection.pick(cluster, names: Array(words.dropLast()), role: role) }
        for member in members {
            let status = (try? await context.request(.DELETE, member, "/restart"))?.status
            print(status == 200 ? "Success: flush scheduled restart for member \(member.name)"
                  : "No scheduled restart for member \(member.name)")
        }
    }
}

/// `vigilctl remove CLUSTER`: every key of the cluster, after patronictl's three confirmations.
public struct RemoveCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a cluster's keys from the store.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        print(MemberTable(cluster: cluster, scope: context.scope).pretty())
        print("Please confirm the cluster name to remove: ", terminator: "")
        guard readLine() == clusterName else { throw CtlError("Cluster names specified do not match") }
        print("You are about to remove all information in DCS for \(clusterName), please type: \"Yes I am aware\": ", terminator: "")
        guard readLine() == "Yes I am aware" else { throw CtlError("You did not exactly type \"Yes I am aware\"") }
        if let leader = cluster.leader?.name {
            print("This cluster currently is healthy. Please specify the leader name to continue: ", terminator: "")
            guard readLine() == leader else { throw CtlError("You did not specify the current leader of the cluster") }
        }
        do {
            try await context.store.deleteCluster()
        } catch {
            throw CtlError("removing the keys failed: \(error)")
        }
    }
}
