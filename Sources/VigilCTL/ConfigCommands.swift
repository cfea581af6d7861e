import ArgumentParser
import Foundation
import VigilConfig
import VigilCore
import VigilSystem

/// `vigilctl show-config`: the cluster-wide configuration as block YAML.
public struct ShowConfigCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "show-config", abstract: "Show the cluster's dynamic configuration.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        // PyYAML ends its document with a newline and click.echo adds one: a blank last line, as patronictl.
        print(YAMLText.render(cluster.config?.value ?? .object([])) + "\n")
    }
}

/// `vigilctl edit-config`: change the cluster-wide configuration with `-s key.path=value` and
/// `-p guc=value` (or replace/merge it from a file), show the change, write it by
/// compare-and-swap on the key's version.
public struct EditConfigCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "edit-config", abstract: "Change the cluster's dynamic configuration.")
    @OptionGroup var global: GlobalOptions
    @Argument var clusterName: String?
    @Option(name: [.customShort("s"), .customLong("set")], help: "key.path=value (YAML value; null deletes).") var set: [String] = []
    @Option(name: [.customShort("p"), .customLong("pg")], help: "A PostgreSQL parameter: name=value.") var pg: [String] = []
    @Option(help: "Merge this JSON/YAML file (- for stdin) into the configuration.") var apply: String?
    @Option(help: "Replace the configuration with this JSON/YAML file (- for stdin).") var replace: String?
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Do not show the change.") var quiet = false
    @Flag(help: "Do not ask for confirmation.") var force = false
    public init() {}

    public func run() async throws {
        let context = try userFacing { try global.context(cluster: clusterName) }
        let cluster = try await userFacing { try await context.readCluster() }
        let before = cluster.config?.value ?? .object([])
        var after = before
        if let replace { after = try Self.document(replace) }
        if let apply { after = after.merged(with: try Self.document(apply)) }
        for assignment in set {
            guard let eq = assignment.firstIndex(of: "=") else { throw ValidationError("-s wants key.path=value, got \(assignment)") }
            let path = assignment[..<eq].split(separator: ".").map(String.init)
            after = after.merged(with: .patch(setting: path, to: Self.value(String(assignment[assignment.index(after: eq)...]))))
        }
        for assignment in pg {
            guard let eq = assignment.firstIndex(of: "=") else { throw ValidationError("-p wants name=value, got \(assignment)") }
            after = after.merged(with: .patch(setting: ["postgresql", "parameters", String(assignment[..<eq])],
                                              to: Self.value(String(assignment[assignment.index(after: eq)...]))))
        }
        if set.isEmpty && pg.isEmpty && apply == nil && replace == nil {
            after = try await userFacing { try await Self.edit(YAMLText.render(before)) }
        }
        if after == before {
            print("Not changed")
            return
        }
        // The agents would keep their old value of anything unusable: refuse it here, by name.
        if let problem = DynamicConfig.firstUnusableValue(in: after) {
            try userFacing { throw CtlError("the new configuration cannot be used: \(problem)") }
        }
        if !quiet { print(LineDiff.unified(YAMLText.render(before), YAMLText.render(after))) }
        if !force, !Prompt.confirm("Apply these changes?") {
            print("Not changed")
            return
        }
        do {
            guard try await context.store.setConfig(after, expectedVersion: cluster.config?.version ?? 0) else {
                throw CtlError("Config modification aborted due to concurrent changes")
            }
        } catch let error as CtlError {
            throw error
        } catch {
            throw CtlError("writing the config key failed: \(error)")
        }
        print("Configuration changed")
    }

    /// Opens the configuration in `$EDITOR` (else `editor`, else `vi`), as patronictl does, and
    /// reads the edited file back.
    static func edit(_ text: String) async throws -> JSONValue {
        let environment = ProcessInfo.processInfo.environment
        let which = { (name: String) in
            (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let editor = environment["EDITOR"].flatMap({ $0.isEmpty ? nil : $0 }) ?? which("editor") ?? which("vi") else {
            throw CtlError("EDITOR environment variable is not set. editor or vi are not available")
        }
        let path = NSTemporaryDirectory() + "vigilctl-config-\(UUID().uuidString.prefix(8)).yaml"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CtlError("cannot write the temporary file \(path)")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The editor gets this terminal; $EDITOR may carry arguments ("code --wait"), as a shell reads it.
        let run: ToolRun
        do {
            run = try await ToolRun.interactive("/bin/sh", ["-c", "\(editor) \"$1\"", "sh", path])
        } catch {
            throw CtlError("cannot start the editor \(editor): \(error)")
        }
        guard run.succeeded else {
            throw CtlError("Editor exited with return code \(run.exitCode.map(String.init) ?? "?")")
        }
        return try document(path)
    }

    /// A `-s` value: YAML scalar rules (numbers, true/false, null), anything else text.
    static func value(_ text: String) -> JSONValue {
        if text == "null" || text == "~" { return .null }
        if let int = Int64(text) { return .int(int) }
        if let double = Double(text), text.contains(".") { return .double(double) }
        switch text.lowercased() {
        case "true", "on", "yes": return .bool(true)
        case "false", "off", "no": return .bool(false)
        default: break
        }
        if let json = try? JSONValue.parse(text), json.objectValue != nil || json.arrayValue != nil { return json }
        return .string(text)
    }

    static func document(_ path: String) throws -> JSONValue {
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let read = try? String(contentsOfFile: path, encoding: .utf8) else { throw CtlError("cannot read \(path)") }
            text = read
        }
        if let json = try? JSONValue.parse(text) { return json }
        do {
            return try YAMLDocument.parse(text, file: path).jsonValue
        } catch {
            throw CtlError("\(path) is neither JSON nor YAML: \(error)")
        }
    }
}

/// A unified diff of two texts, line by line (longest common subsequence).
enum LineDiff {
    static func unified(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out = ["---", "+++"]
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if i < x.count, j < y.count, x[i] == y[j] {
                out.append(" " + x[i]); i += 1; j += 1
            } else if i < x.count, j == y.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                out.append("-" + x[i]); i += 1
            } else {
                out.append("+" + y[j]); j += 1
            }
        }
        return out.joined(separator: "\n")
    }
}
