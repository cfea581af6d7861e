import ArgumentParser
import Foundation
import VigilConfig
import VigilCore

/// `vigilctl pause` / `resume`: maintenance mode through PATCH /config, as patronictl.
public struct PauseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "pause", abstract: "Disable automatic failover.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Flag(help: "Wait until every member has seen it.") var wait = false
    public init() {}
    public func run() async throws { try await Maintenance.set(true, global: global, clusterName: clusterName, wait: wait) }
}

public struct ResumeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "resume", abstract: "Enable automatic failover again.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Flag(help: "Wait until every member has seen it.") var wait = false
    public init() {}
    public func run() async throws { try await Maintenance.set(false, global: global, clusterName: clusterName, wait: wait) }
}

enum Maintenance {
    static func set(_ paused: Bool, global: GlobalOptions, clusterName: String?, wait: Bool) async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let isPaused = cluster.config?.value["pause"] == .bool(true)
        if paused == isPaused {
            FileHandle.standardError.write(Data("Error: \(paused ? "Cluster is already paused" : "Cluster is not paused")\n".utf8))
            throw ExitCode(1)
        }
        // The leader first, then the others, until one answers.
        let members = (cluster.leaderMember.map { [$0] } ?? []) + cluster.members.filter { $0.name != cluster.leader?.name }
        for member in members {
            guard let (status, text) = try? await context.request(.PATCH, member, "/config",
                                                                   body: ["pause": paused ? .bool(true) : .null]) else { continue }
            if status == 200 {
                if wait {
                    print("'\(paused ? "pause" : "resume")' request sent, waiting until it is recognized by all nodes")
                    for _ in 0..<30 {
                        if let now = try? await context.readCluster(), now.members.allSatisfy({ $0.record.pause == paused }) { break }
                        try await Task.sleep(for: .seconds(1))
                    }
                }
                print("Success: cluster management is \(paused ? "paused" : "resumed")")
                return
            }
            FileHandle.standardError.write(Data("Error: \(text)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardError.write(Data("Error: no member of the cluster answered\n".utf8))
        throw ExitCode(1)
    }
}

/// `vigilctl history`: the timeline switches, as patronictl shows them.
public struct HistoryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the cluster's timeline history.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Option(name: [.customShort("f"), .customLong("format")]) var format = "pretty"
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let columns = ["TL", "LSN", "Reason", "Timestamp", "New Leader"]
        let rows = (cluster.history?.value ?? []).map { event in
            [String(event.timeline), String(event.lsn), event.reason, event.timestamp ?? "", event.newLeader ?? ""]
        }
        if format == "tsv" {
            print(([columns] + rows).map { $0.joined(separator: "\t") }.joined(separator: "\n"))
        } else {
            print(PrettyTable(columns: columns, rows: rows, rightAligned: ["TL", "LSN"]).render())
        }
    }
}

/// `vigilctl dsn`: a libpq connection string for a member (the leader by default).
public struct DsnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "dsn", abstract: "Print a connection string for a member.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Option(name: [.customShort("r"), .customLong("role")], help: "leader, primary, replica or any.") var role = "leader"
    @Option(name: [.customShort("m"), .customLong("member")]) var member: String?
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let (_, address) = try cluster.suitableMember(role: role, name: member)
        print("host=\(address.host) port=\(address.port)")
    }
}

extension ClusterState {
    /// patronictl's choice for `dsn` and `query`: the named member, else the leader for
    /// leader/primary/any (any: the first member when there is no leader), else the first
    /// replica; with its PostgreSQL address. Exits with patronictl's message when none fits.
    func suitableMember(role: String, name: String?) throws -> (Member, HostPort) {
        let chosen: Member? = if let name {
            member(named: name)
        } else {
            switch role {
            case "replica", "standby": members.first { $0.name != leader?.name }
            case "any": leaderMember ?? members.first
            default: leaderMember
            }
        }
        guard let chosen, let address = chosen.record.connURL.flatMap(ConnectionURL.hostPort) else {
            FileHandle.standardError.write(Data("Error: Can not find a suitable member\n".utf8))
            throw ExitCode(1)
        }
        return (chosen, address)
    }
}

/// `vigilctl haproxy-config`: a ready haproxy.cfg for the cluster in the store.
public struct HAProxyConfigCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "haproxy-config",
        abstract: "Write an haproxy.cfg for the cluster: writes to the primary, reads to the replicas.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Option(help: "Where clients connect for writes.") var write = "*:5432"
    @Option(help: "Where clients connect for reads.") var read = "*:5433"
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.") var output: String?
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        guard let writeBind = HostPort(write), let readBind = HostPort(read) else {
            throw ValidationError("--write and --read are HOST:PORT (HOST may be *)")
        }
        let servers = cluster.members.sorted { $0.name < $1.name }.compactMap { member -> HAProxyConfig.Server? in
            guard let pg = member.record.connURL.flatMap(ConnectionURL.hostPort),
                  let api = member.record.apiURL.flatMap(URL.init(string:)) else { return nil }
            return .init(name: member.name, postgres: pg, restPort: api.port ?? 8008)
        }
        guard !servers.isEmpty else {
            FileHandle.standardError.write(Data("Error: the cluster \(context.scope) has no members in the store yet\n".utf8))
            throw ExitCode(1)
        }
        let ttl = cluster.config?.value["ttl"]?.intValue.map(Int.init) ?? 30
        let text = HAProxyConfig(servers: servers, writeBind: writeBind, readBind: readBind, ttl: ttl).render()
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                FileHandle.standardError.write(Data("Error: cannot write \(output)\n".utf8))
                throw ExitCode(1)
            }
            print("wrote \(output) (\(servers.count) servers)")
        } else {
            print(text, terminator: "")
        }
    }
}
