import Foundation

/// Where the tools that `make test` installed live.
public enum TestTools {
    /// The repository root, found from this file's own path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// PostgreSQL 18's bin directory: `$VIGIL_PG_BIN`, else the path the installer recorded
    /// in `.tools/pg18-bin`.
    public static func postgresBinDirectory() throws -> String {
        let recorded = repositoryRoot.appendingPathComponent(".tools/pg18-bin").path
        let dir = ProcessInfo.processInfo.environment["VIGIL_PG_BIN"]
            ?? (try? String(contentsOfFile: recorded, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let dir, FileManager.default.isExecutableFile(atPath: dir + "/postgres") else {
            throw HarnessError.missingBinary("PostgreSQL 18", looked: "in $VIGIL_PG_BIN and \(recorded)")
        }
        return dir
    }

    public static func postgresBinary(_ name: String) throws -> String {
        let path = try postgresBinDirectory() + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError.missingBinary(name, looked: "at \(path)")
        }
        return path
    }

    /// The directory schemathesis was installed into (`PYTHONPATH`), from `.tools/schemathesis-path`.
    public static func schemathesisHome() throws -> String {
        let recorded = repositoryRoot.appendingPathComponent(".tools/schemathesis-path").path
        let home = (try? String(contentsOfFile: recorded, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let home, FileManager.default.fileExists(atPath: home + "/schemathesis") else {
            throw HarnessError.missingBinary("schemathesis", looked: "in \(recorded) (make test installs it)")
        }
        return home
    }

    /// An executable on PATH (etcd, etcdctl, haproxy), or an explicit path.
    public static func executable(_ name: String) throws -> String {
        if name.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else { throw HarnessError.missingBinary(name, looked: "at \(name)") }
            return name
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/sbin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.missingBinary(name, looked: "on PATH")
    }
}
