import ArgumentParser
import Foundation

/// `vigilctl lab up|down|status`.
public struct LabCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run the guide's whole cluster on this machine: etcd, two PostgreSQL 18 nodes under vigil agents, HAProxy.",
        subcommands: [Up.self, Down.self, Status.self, Drill.self])

    public init() {}

    struct Options: ParsableArguments {
        @Option(name: .customLong("dir"), help: "Where the lab keeps its state.")
        var directory = ".lab"
        @Option(help: "The loopback /24 the lab lives in: etcd and HAProxy on .1, the nodes on .21 and .22 (default: what lab up recorded, else 127.0.50).")
        var subnet: String?
        @Option(help: "The HA agent on the nodes: vigil, or patroni (Patroni 4.1.5 from `make test`, for comparisons).")
        var agent: String?
        @Option(help: "Timings: guide (ttl 30, as the guide writes them) or fast (ttl 10, fails over in seconds).")
        var profile: String?
        @Option(help: "PostgreSQL nodes (2 to 9): postgres104 on .21, postgres105 on .22, postgres106 on .23…")
        var nodes: Int?
        @Option(name: .customLong("etcd-members"), help: "etcd members (1 to 5): on .1, .2, .3…")
        var etcdMembers: Int?
        @Option(help: "Replication: off (asynchronous, as the guide), on (synchronous_mode), strict (and synchronous_mode_strict) or quorum.")
        var sync: String?

        /// Without --agent/--profile/--subnet/…, what the lab was started with (recorded by `lab up`),
        /// else vigil, guide, 127.0.50, two nodes, one etcd member.
        func lab() throws -> Lab {
            let recorded = LabLayout(directory: directory).recorded
            let members = etcdMembers ?? recorded.etcdMembers ?? 1
            if let before = recorded.etcdMembers, before != members {
                // etcd's membership lives in its data: members cannot be added by starting them.
                throw LabError("the lab in \(directory) was made with \(before) etcd member(s); to change that, stop it and remove the directory")
            }
            guard let agent = LabAgent(rawValue: agent ?? recorded.agent ?? "vigil") else {
                throw ValidationError("--agent must be vigil or patroni")
            }
            guard let profile = LabProfile(rawValue: profile ?? recorded.profile ?? "guide") else {
                throw ValidationError("--profile must be one of: \(LabProfile.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let sync = LabSync(rawValue: sync ?? recorded.sync ?? "off") else {
                throw ValidationError("--sync must be one of: \(LabSync.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let patroni = (try? String(contentsOfFile: ".tools/patroni-path", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return Lab(directory: directory, subnet: subnet ?? recorded.subnet ?? LabLayout.defaultSubnet,
                       nodes: nodes ?? recorded.nodes ?? 2, etcdMembers: members, profile: profile, agent: agent, sync: sync,
                       patroniPath: ProcessInfo.processInfo.environment["VIGIL_PATRONI_PATH"] ?? patroni, say: { print($0) })
        }

        func validate() throws {
            if let nodes, !(2...9).contains(nodes) { throw ValidationError("--nodes must be between 2 and 9") }
            if let etcdMembers, !(1...5).contains(etcdMembers) { throw ValidationError("--etcd-members must be between 1 and 5") }
            guard let subnet else { return }
            let octets = subnet.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 3, octets.first == "127", octets.allSatisfy({ UInt8($0) != nil }) else {
                throw ValidationError("--subnet must be three octets of a loopback address, such as 127.0.50")
            }
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the lab (or say how to reach it if it is up).")
        @OptionGroup var options: Options
        @Option(help: "PostgreSQL 18's bin directory (default: the one `make lab` installed, from .tools/pg18-bin).")
        var pgBin: String?
        func run() async throws {
            let bin = try pgBin ?? Self.recordedPGBin()
            try await LabCommand.reporting("up") { try await options.lab().up(pgBin: bin, vigilBinary: Self.siblingBinary("vigil")) }
        }

        static func recordedPGBin() throws -> String {
            if let env = ProcessInfo.processInfo.environment["VIGIL_PG_BIN"] { return env }
            let recorded = (try? String(contentsOfFile: ".tools/pg18-bin", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard let recorded, !recorded.isEmpty else {
                throw ValidationError("no PostgreSQL 18 found: pass --pg-bin DIR (or run `make lab`, which installs it)")
            }
            return recorded
        }

        static func siblingBinary(_ name: String) -> String {
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every lab process; the data stays.")
        @OptionGroup var options: Options

        func run() async throws {
            try await LabCommand.reporting("down") { try await options.lab().down() }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the lab's members and HAProxy.")
        @OptionGroup var options: Options

        func run() async throws {
            try await LabCommand.reporting("status") { try await options.lab().status() }
        }
    }

    struct Drill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inject a fault into the lab while writing through HAProxy and to each node; report the new primary, write downtime, lost writes, two primaries at once and the time to rejoin.",
            discussion: DrillKind.summary + " Exits 3 when two primaries took writes at once, or acknowledged writes were lost where the configuration promises none.")
        @OptionGroup var options: Options
        @Argument(help: "\(DrillKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @Flag(help: "Print the report as JSON on the last line of the output.") var json = false

        func run() async throws {
            guard let kind = DrillKind(rawValue: kind) else {
                throw ValidationError("the drill is one of: \(DrillKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let report = try await LabCommand.reporting("drill") { try await options.lab().drill(kind) }
            if json { print(report.json.compactText) }
            if !report.passed { throw ExitCode(3) }
        }
    }

    /// Runs a lab command; any failure is one line on stderr naming the command, and exit 1.
    static func reporting<T>(_ command: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            // LabErrors say what and where; anything else (a tool that could not be run, a
            // connection that broke) is still one line, never a trace.
            FileHandle.standardError.write(Data("vigilctl lab \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
