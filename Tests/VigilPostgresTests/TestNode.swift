import Foundation
import VigilConfig
import VigilCore
import VigilPostgres
import VigilSystem
import VigilTestSupport

/// A PostgreSQL node configured from the guide's CT 104 `patroni.yml`, moved onto a loopback
/// address and a scratch directory: the settings under test are the guide's own.
struct TestNode {
    let name: String
    let host: String
    let port: Int
    let directory: TestDirectory
    let settings: InstanceSettings
    let instance: PostgresInstance
    let owner: ProcessOwner?

    /// `postgresqlLines` are added to the `postgresql` section (indented by the caller's two spaces).
    static func make(_ name: String, replicationPassword: String = "Replicator123!",
                     binDir: String? = nil, postgresqlLines: [String] = []) throws -> TestNode {
        let user = try ServiceUser.current()
        let owner = user.switches ? ProcessOwner(name: user.name, uid: user.uid, gid: user.gid) : nil
        let (host, port) = try LoopbackAddress.freeEndpoint()
        let directory = try TestDirectory.make("node-\(name)")
        let work = try directory.makeOwned("work", by: user, mode: 0o755)
        let sockets = try directory.makeOwned("sockets", by: user, mode: 0o755)
        var text = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Tests/Fixtures/guide/patroni-ct104.yml"),
                              encoding: .utf8)
        text = text.replacingOccurrences(of: "name: postgres104", with: "name: \(name)")
            .replacingOccurrences(of: "192.168.50.21:5432", with: "\(host):\(port)")
            .replacingOccurrences(of: "192.168.50.21:8008", with: "\(host):8008")
            .replacingOccurrences(of: "192.168.50.0/24", with: "127.0.0.0/8")
            .replacingOccurrences(of: "  data_dir: /var/lib/pgsql/18/data",
                                  with: "  data_dir: \(work)/data\n  bin_dir: \(try binDir ?? TestTools.postgresBinDirectory())"
                                    + postgresqlLines.map { "\n  " + $0 }.joined())
            .replacingOccurrences(of: "/var/lib/pgsql/.pgpass", with: "\(work)/pgpass")
            .replacingOccurrences(of: "'/var/run/postgresql'", with: "'\(sockets)'")
            .replacingOccurrences(of: "      password: Replicator123!\n    superuser:",
                                  with: "      password: \(replicationPassword)\n    superuser:")
        let file = directory.sub("patroni.yml")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try ConfigSource.load(path: file, environment: [:])
        let settings = try InstanceSettings.resolve(loaded.configuration)
        return TestNode(name: name, host: host, port: port, directory: directory, settings: settings,
                        instance: PostgresInstance(settings: settings, owner: owner, logFile: directory.sub("postgres.log")),
                        owner: owner)
    }

    var address: HostPort { HostPort(hosts: [host], port: port) }

    func cleanUp() async {
        try? await instance.stop(.immediate, timeout: .seconds(10))
        directory.remove()
    }

    /// Runs `body` with fresh nodes and removes them afterwards, whatever happens.
    static func with(_ names: [String], _ body: ([TestNode]) async throws -> Void) async throws {
        let nodes = try names.map { try make($0) }
        do {
            try await body(nodes)
        } catch {
            for node in nodes { await node.cleanUp() }
            throw error
        }
        for node in nodes { await node.cleanUp() }
    }

    /// Polls `query` on this node until it returns `expected` (at most `timeout`).
    func waitFor(_ query: String, toReturn expected: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try? await instance.query(query).first?.first, value == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
