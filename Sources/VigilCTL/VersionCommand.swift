import ArgumentParser
import Foundation
import VigilCore

/// `vigilctl version [CLUSTER [MEMBER…]]`: this tool's version and, given a cluster, each
/// member's agent and PostgreSQL versions, as patronictl prints them.
public struct VersionCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print vigilctl's version, and the agents' and PostgreSQL's of a cluster's members.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A cluster whose members to ask.") var clusterName: String?
    @Argument(help: "Only these members.") var memberNames: [String] = []
    public init() {}

    public func run() async throws {
        print("vigilctl version \(VigilVersion.string)")
        guard let clusterName else { return }
        print("")
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        for member in cluster.members where memberNames.isEmpty || memberNames.contains(member.name) {
            do {
                let answer = try await context.exchange(.GET, member, "/patroni", timeout: .seconds(5))
                guard answer.status == 200, let json = try? JSONValue.parse(answer.body) else {
                    print("\(member.name): failed to get version: HTTP \(answer.status) \(answer.body.prefix(200))")
                    continue
                }
                let version = json["patroni"]?["version"]?.stringValue ?? "?"
                // The Server header tells a Vigil agent from Patroni in a mixed cluster.
                let agent = answer.server?.hasPrefix("Vigil") == true ? "Vigil" : "Patroni"
                let postgres = json["server_version"]?.intValue.map { " PostgreSQL \(Self.postgresVersion($0))" } ?? ""
                print("\(member.name): \(agent) \(version)\(postgres)")
            } catch {
                print("\(member.name): failed to get version: \(error)")
            }
        }
    }

    /// 180001 → 18.1; 90624 → 9.6.24 (patronictl's format_pg_version).
    static func postgresVersion(_ number: Int64) -> String {
        if number >= 100_000 { return "\(number / 10000).\(number % 10000)" }
        return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }
}
