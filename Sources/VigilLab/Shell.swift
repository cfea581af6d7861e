import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs the tools the lab drives (setsid, etcd, HAProxy, psql, pkill) and keeps their output.
enum Shell {
    struct Result {
        var code: Int32
        var output: String
        var succeeded: Bool { code == 0 }
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        var env: [Environment.Key: String?] = [:]
        for (key, value) in environment { env[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(env),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        var code: Int32 = -1
        if case let .exited(status) = result.terminationStatus { code = status }
        return Result(code: code, output: result.standardOutput + result.standardError)
    }

    /// Starts `command` in its own session, detached from this process (it outlives vigilctl),
    /// with its output appended to `log`.
    static func daemon(_ command: [String], log: String) async throws {
        let quoted = command.map(quote).joined(separator: " ")
        let result = try await run("/usr/bin/setsid", ["-f", "/bin/sh", "-c", "exec \(quoted) >>\(quote(log)) 2>&1 </dev/null"])
        guard result.succeeded else { throw LabError("could not start \(command.first ?? "?"): \(result.output)") }
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Whether something accepts TCP connections on host:port.
    static func accepts(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func which(_ name: String, in dirs: [String] = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]) -> String? {
        dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
