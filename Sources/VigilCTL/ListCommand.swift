import ArgumentParser
import Foundation
import VigilCore

/// `vigilctl list` / `topology`: the cluster's members, as patronictl prints them.
public struct ListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List the members of a cluster.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Cluster names (default: the config's scope).") var clusterNames: [String] = []
    @Flag(name: [.customShort("e"), .long], help: "Show pending restarts, scheduled restarts and tags.") var extended = false
    @Flag(name: [.customShort("t"), .customLong("timestamp")], help: "Print a timestamp first.") var timestamp = false
    @Option(name: [.customShort("f"), .customLong("format")], help: "pretty, tsv, json, yaml.") var format = "pretty"
    @Flag(name: .customShort("W"), help: "Refresh every 2 seconds.") var watchDefault = false
    @Option(name: [.customShort("w"), .customLong("watch")], help: "Refresh every N seconds.") var watch: Int?

    public init() {}

    public func run() async throws {
        guard ["pretty", "tsv", "json", "yaml", "yml", "topology"].contains(format) else {
            throw ValidationError("--format must be pretty, tsv, json or yaml")
        }
        let interval = watch ?? (watchDefault ? 2 : nil)
        repeat {
            for name in clusterNames.isEmpty ? [nil] : clusterNames.map(Optional.some) {
                try await printCluster(name)
            }
            if let interval { try await Task.sleep(for: .seconds(interval)) }
        } while interval != nil
    }

    func printCluster(_ name: String?) async throws {
        let context = try userFacing { try global.context(cluster: name) }
        let cluster = try await userFacing { try await context.readCluster() }
        if timestamp { print(Timestamps.now(fraction: false)) }
        let table = MemberTable(cluster: cluster, scope: context.scope, extended: extended)
        switch format {
        case "tsv": print(table.tsv())
        case "json": print(table.json().pythonText)
        case "yaml", "yml": print(YAMLText.render(table.json()))
        default: print(table.pretty())
        }
    }
}

/// A user-facing failure: one line on stderr and exit status 1, never a stack trace.
func userFacing<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CtlError {
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

func userFacing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CtlError {
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

enum Timestamps {
    /// `2023-09-13 14:15:23` or, with `fraction`, `2023-09-13 14:15:23.07497` (Python's %f cut to 5 digits).
    static func now(fraction: Bool) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = fraction ? "yyyy-MM-dd HH:mm:ss.SSSSS" : "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date())
    }
}

extension JSONValue {
    /// As Python's json.dumps prints it (", " and ": " separators).
    var pythonText: String {
        switch self {
        case let .array(items): "[" + items.map(\.pythonText).joined(separator: ", ") + "]"
        case let .object(entries):
            "{" + entries.map { JSONValue.string($0.key).compactText + ": " + $0.value.pythonText }.joined(separator: ", ") + "}"
        default: compactText
        }
    }
}

/// Block YAML for lists of flat objects and nested config (PyYAML's safe_dump look: sorted keys).
enum YAMLText {
    static func render(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case let .array(items):
            if items.isEmpty { return pad + "[]" }
            return items.map { item in
                let body = render(item, indent: indent + 2)
                return pad + "- " + body.dropFirst(indent + 2)
            }.joined(separator: "\n")
        case let .object(entries):
            if entries.isEmpty { return pad + "{}" }
            return entries.sorted { $0.key < $1.key }.map { key, value in
                switch value {
                case let .object(inner) where !inner.isEmpty:
                    return pad + key + ":\n" + render(value, indent: indent + 2)
                case let .array(inner) where !inner.isEmpty:
                    return pad + key + ":\n" + render(value, indent: indent)
                default:
                    return pad + key + ": " + scalar(value)
                }
            }.joined(separator: "\n")
        default:
            return pad + scalar(value)
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s):
            let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "_-./ ".contains($0) }
                && Int(s) == nil && Double(s) == nil && !["true", "false", "null", "yes", "no", "on", "off"].contains(s.lowercased())
                && s.first != " " && s.last != " "
            return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .array: return "[]"
        case .object: return "{}"
        }
    }
}

/// `vigilctl topology`: list, with the leader first and replicas as its branches.
public struct TopologyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "topology", abstract: "Show the cluster as a tree.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterNames: [String] = []
    public init() {}

    public func run() async throws {
        for name in clusterNames.isEmpty ? [nil] : clusterNames.map(Optional.some) {
            let context = try userFacing { try global.context(cluster: name) }
            let cluster = try await userFacing { try await context.readCluster() }
            print(MemberTable(cluster: cluster, scope: context.scope, topology: true).pretty())
        }
    }
}
