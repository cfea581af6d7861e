import Foundation
import VigilConfig
import VigilTestSupport

/// The guide's configuration blocks (Tests/Fixtures/guide, copied verbatim from the guide)
/// and small YAML files written for one test, each at a file mode the test chooses.
enum Fixtures {
    static let guideDirectory = TestTools.repositoryRoot.appendingPathComponent("Tests/Fixtures/guide")

    static func guideText(_ name: String) throws -> String {
        try String(contentsOf: guideDirectory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Writes `text` to a fresh temporary file with `mode` and returns its path.
    static func file(_ text: String, name: String = "patroni.yml", mode: Int = 0o600) throws -> String {
        let dir = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        return path
    }

    static func guideFile(_ name: String, mode: Int = 0o600) throws -> String {
        try file(guideText(name), name: name, mode: mode)
    }

    /// Checks a file with an empty environment, so the machine's PATRONI_* variables do not leak in.
    static func check(_ path: String, environment: [String: String] = [:]) -> ConfigCheck.Report {
        ConfigCheck.run(path: path, environment: environment)
    }

    static func load(_ text: String, environment: [String: String] = [:]) throws -> LoadedConfiguration {
        try ConfigSource.load(path: file(text), environment: environment)
    }

    /// A complete, valid configuration to vary in tests.
    static let minimal = """
        scope: demo
        name: node1
        namespace: /db/
        restapi:
          listen: 127.0.0.1:8008
          connect_address: 127.0.0.1:8008
          authentication: {username: admin, password: adminpass}
        etcd3:
          hosts: [127.0.0.1:2379]
        bootstrap:
          dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10}
        postgresql:
          listen: 127.0.0.1:5432
          connect_address: 127.0.0.1:5432
          data_dir: /tmp/data
          authentication:
            superuser: {username: postgres, password: secretsuper}
            replication: {username: replicator, password: secretrepl}
        """
}

extension ConfigCheck.Report {
    func findings(_ code: String) -> [Diagnostic] { diagnostics.filter { $0.code == code } }
}
