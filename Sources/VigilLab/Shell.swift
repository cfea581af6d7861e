import Foundation
import VigilSystem

/// Runs the tools the lab drives (setsid, etcd, HAProxy, psql, pkill) and keeps their output.
enum Shell {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) async throws -> ToolRun {
        do {
            return try await ToolRun.capture(executable, arguments, environment: environment)
        } catch {
            throw LabError(error.description)
        }
    }

    /// Starts `command` in its own session, detached from this process (it outlives vigilctl),
    /// with its output appended to `log`; in the cgroup whose `cgroup.procs` is given, joined
    /// before the command starts so that every socket and child it makes belongs to it.
    static func daemon(_ command: [String], log: String, cgroupProcs: String? = nil) async throws {
        let quoted = command.map(quote).joined(separator: " ")
        let join = cgroupProcs.map { "echo $$ >\(quote($0)) && " } ?? ""
        let result = try await run("/usr/bin/setsid", ["-f", "/bin/sh", "-c", "\(join)exec \(quoted) >>\(quote(log)) 2>&1 </dev/null"])
        guard result.succeeded else { throw LabError("could not start \(command.first ?? "?"): \(result.output)") }
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func which(_ name: String, in dirs: [String] = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]) -> String? {
        dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
