import Foundation
import Testing
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built executables, run as a user would run them: output and exit status.
@Suite struct CheckConfigCommandTests {
    static let guide = TestTools.repositoryRoot.appendingPathComponent("Tests/Fixtures/guide").path

    /// A copy of a guide fixture at a known mode (git does not keep modes).
    func guideCopy(_ name: String, mode: Int = 0o600) throws -> String {
        let dir = NSTemporaryDirectory() + "vigilctl-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try FileManager.default.copyItem(atPath: Self.guide + "/" + name, toPath: path)
        chmod(path, mode_t(mode))
        return path
    }

    @Test func ct104ExitsZeroWithTheGuidesMistakes() async throws {
        let path = try guideCopy("patroni-ct104.yml", mode: 0o644)
        let run = try await CommandRun.run(try CommandRun.product("vigilctl"), ["check-config", path])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        let out = run.stdout
        #expect(out.contains("\(path):24: warning: bootstrap.dcs.postgresql.parameters.wal_keep_segments:"))
        #expect(out.contains("\(path):9: warning: etcd: the etcd: section selects etcd's v2 API"))
        #expect(out.contains("loop_wait 1, retry_timeout 14"))
        #expect(out.contains("plain-text passwords"))
        #expect(!out.contains("Qwe1234!"))
        #expect(run.stdoutLines.last == "\(path): valid: 0 errors, 6 warnings, 2 notes")
    }

    @Test func ct105ExitsOneNamingTheMissingKeys() async throws {
        let path = try guideCopy("patroni-ct105.yml")
        let run = try await CommandRun.run(try CommandRun.product("vigilctl"), ["check-config", path])
        #expect(run.exitCode == 1)
        #expect(run.stdout.contains("error: postgresql.authentication.superuser.username: required key is missing"))
        #expect(run.stdout.contains("error: postgresql.authentication.replication.username: required key is missing"))
        #expect(run.stdout.contains("\(path):15: error: postgresql.connect_address: points at port 8008"))
    }

    @Test func syntaxErrorExitsTwoNamingLineAndColumn() async throws {
        let path = NSTemporaryDirectory() + "vigilctl-bad-\(UUID().uuidString.prefix(8)).yml"
        try "scope: x\nrestapi: {listen: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let run = try await CommandRun.run(try CommandRun.product("vigilctl"), ["check-config", path])
        #expect(run.exitCode == 2)
        #expect(run.stdoutLines.count == 1)
        #expect(run.stdout.range(of: #"^\S+:\d+:\d+: error: invalid YAML"#, options: .regularExpression) != nil,
                "\(run.stdout)")
    }

    @Test func missingFileExitsTwoInOneLine() async throws {
        let run = try await CommandRun.run(try CommandRun.product("vigilctl"), ["check-config", "/nonexistent.yml"])
        #expect(run.exitCode == 2)
        #expect(run.stdout == "/nonexistent.yml: error: cannot read the configuration: no such file\n")
    }

    @Test func vigilValidateConfigMatchesVigilctl() async throws {
        let path = try guideCopy("patroni-ct105.yml")
        let vigil = try await CommandRun.run(try CommandRun.product("vigil"), ["--validate-config", path])
        let ctl = try await CommandRun.run(try CommandRun.product("vigilctl"), ["check-config", path])
        #expect(vigil.exitCode == 1)
        #expect(vigil.stdout == ctl.stdout)
    }

    /// As root (CI, the lab host) the agent refuses in one line; as anyone else it gets
    /// past that check to reading its configuration.
    @Test func vigilRefusesToRunAsRoot() async throws {
        let run = try await CommandRun.run(try CommandRun.product("vigil"), ["/nonexistent.yml"])
        #expect(run.exitCode == 1 || run.exitCode == 2)
        let refusal = "vigil: refusing to run as root; start it as the user that owns the PostgreSQL data directory (e.g. sudo -u postgres vigil CONFIG).\n"
        if geteuid() == 0 {
            #expect(run.stderr == refusal)
            #expect(run.exitCode == 1)
        } else {
            #expect(!run.stderr.contains("refusing to run as root"))
        }
    }
}
