import Foundation
import VigilPostgres
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real Patroni 4.1.5 node (installed by `make test`), managing its own PostgreSQL 18 on a
/// loopback address against a test etcd: the reference that Vigil's interop tests read from
/// and write for.
public final class TestPatroni: Sendable {
    public let name: String
    public let scope: String
    public let namespace: String
    public let host: String
    public let restPort: Int
    public let postgresPort: Int
    public let configPath: String
    public let directory: TestDirectory
    public let process: ChildProcess
    private let dataDirectory: String

    public var restURL: String { "http://\(host):\(restPort)" }

    /// The directory Patroni was installed into (`PYTHONPATH`), from `.tools/patroni-path`.
    public static func installDirectory() throws -> String {
        let recorded = TestTools.repositoryRoot.appendingPathComponent(".tools/patroni-path").path
        guard let dir = (try? String(contentsOfFile: recorded, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines),
            FileManager.default.fileExists(atPath: dir + "/patroni/__main__.py") else {
            throw HarnessError.missingBinary("Patroni 4.1.5", looked: "in \(recorded)")
        }
        return dir
    }

    /// The environment that runs Patroni's Python code: Debian's python3 with the install on its path.
    public static func pythonEnvironment() throws -> [String: String] {
        ["PYTHONPATH": try installDirectory(), "PYTHONDONTWRITEBYTECODE": "1"]
    }

    /// - Parameters:
    ///   - superuserPassword, replicationPassword: those of the cluster it joins (a Vigil
    ///     cluster's, when it joins one as a replica).
    public init(name: String, scope: String, namespace: String = "/db/", etcdEndpoints: [String],
                ttl: Int = 20, loopWait: Int = 2, retryTimeout: Int = 5,
                superuserPassword: String = "patroni-test-super", replicationPassword: String = "patroni-test-repl") async throws {
        self.name = name
        self.scope = scope
        self.namespace = namespace
        let environment = try Self.pythonEnvironment()
        let bin = try TestTools.postgresBinDirectory()
        let user = try ServiceUser.current()
        host = LoopbackAddress.random()
        restPort = 8008
        postgresPort = 5432
        directory = try TestDirectory.make("patroni")
        let work = try directory.makeOwned("work", by: user)
        dataDirectory = work + "/data"
        configPath = directory.sub("patroni.yml")
        let config = """
            scope: \(scope)
            namespace: \(namespace)
            name: \(name)
            restapi:
              listen: \(host):\(restPort)
              connect_address: \(host):\(restPort)
            etcd3:
              hosts: [\(etcdEndpoints.joined(separator: ", "))]
            bootstrap:
              dcs:
                ttl: \(ttl)
                loop_wait: \(loopWait)
                retry_timeout: \(retryTimeout)
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
              initdb: [{encoding: UTF8}, data-checksums]
            postgresql:
              listen: \(host):\(postgresPort)
              connect_address: \(host):\(postgresPort)
              data_dir: \(dataDirectory)
              bin_dir: \(bin)
              pgpass: \(work)/pgpass
              authentication:
                superuser: {username: postgres, password: \(superuserPassword)}
                replication: {username: replicator, password: \(replicationPassword)}
              parameters:
                unix_socket_directories: \(work)
            tags: {nofailover: false, noloadbalance: false, clonefrom: false, nosync: false}
            """
        guard FileManager.default.createFile(atPath: configPath, contents: Data(config.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw HarnessError("cannot write \(configPath)")
        }
        try user.own(configPath)
        process = try await ChildProcess.spawn("/usr/bin/python3", ["-m", "patroni", configPath], owner: user.owner,
                                               environment: environment, logPath: directory.sub("patroni.log"))
    }

    /// SIGTERM (Patroni stops PostgreSQL and releases its keys), then makes sure no
    /// postmaster outlives it, and removes the directory.
    public func stop() async {
        await process.stop(signal: SIGTERM, grace: .seconds(30))
        if let pidText = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
           let pid = Int32(pidText.split(separator: "\n").first ?? "") {
            kill(pid, SIGQUIT)
            try? await Task.sleep(for: .seconds(1))
            kill(pid, SIGKILL)
        }
        directory.remove()
    }

    public func logTail() -> String { process.logTail(lines: 30) }
}
