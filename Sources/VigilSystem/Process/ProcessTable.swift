import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about running processes.
public enum ProcessTable {
    /// The processes whose parent is `parent` (a postmaster's backends and auxiliary processes).
    public static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), parentID(of: pid) == parent else { return nil }
            return pid
        }.sorted()
    }

    /// Whether `pid` has ended (no such process, or a zombie waiting to be reaped).
    public static func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// The parent of `pid`, from /proc/PID/stat: "pid (comm) state ppid …", where comm may
    /// itself hold spaces and parentheses, so the fields are read after the last ')'.
    public static func parentID(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// The live PostgreSQL processes whose working directory is `directory` (the postmaster and
    /// its backends run in their data directory; a shell someone left there does not count).
    /// Only processes this user may inspect are seen.
    public static func postgresProcesses(workingIn directory: String) -> [pid_t] {
        let target = (directory as NSString).resolvingSymlinksInPath
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                  let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                  cwd == target, !isGone(pid),
                  arguments(of: pid).first.map({ $0.hasPrefix("postgres") || $0.hasSuffix("/postgres") }) == true else { return nil }
            return pid
        }
    }

    /// The arguments `pid` was started with, program first; empty when it is gone (or a
    /// kernel thread).
    public static func arguments(of pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The command line of `pid`, its arguments joined by spaces, for a message.
    public static func commandLine(_ pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            .split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
