import Foundation

/// Where the lab puts everything: the guide's topology on loopback addresses
/// (ARCHITECTURE.md "Lab and data layout") and one directory for all state.
public struct LabLayout: Sendable {
    public struct Node: Sendable {
        public var name: String
        public var host: String
        public var postgresPort = 5432
        public var restPort = 8008
    }

    public var directory: String
    public var scope = "postgres_cluster"
    public var namespace = "/db/"
    public var etcdHost = "127.0.50.1"
    public var etcdClientPort = 2379
    public var etcdPeerPort = 2380
    public var haproxyHost = "127.0.50.1"
    public var writePort = 5432
    public var readPort = 5433
    public var statsPort = 7000
    public var nodes = [Node(name: "postgres104", host: "127.0.50.21"), Node(name: "postgres105", host: "127.0.50.22")]

    /// - Parameter subnet: the first three octets of every address (the guide's 192.168.50 becomes 127.0.50).
    public init(directory: String, subnet: String = "127.0.50") {
        let absolute = directory.hasPrefix("/") ? directory
            : FileManager.default.currentDirectoryPath + "/" + directory
        self.directory = (absolute as NSString).standardizingPath
        etcdHost = "\(subnet).1"
        haproxyHost = "\(subnet).1"
        nodes = [Node(name: "postgres104", host: "\(subnet).21"), Node(name: "postgres105", host: "\(subnet).22")]
    }

    func path(_ parts: String...) -> String { ([directory] + parts).joined(separator: "/") }

    /// The agent and profile `lab up` last used here (the file `lab.conf`: `agent profile`).
    var recorded: (agent: String?, profile: String?) {
        let words = ((try? String(contentsOfFile: path("lab.conf"), encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
        return (words.first.map(String.init), words.count > 1 ? String(words[1]) : nil)
    }

    var etcdEndpoint: String { "\(etcdHost):\(etcdClientPort)" }
    var binary: String { path("bin", "vigil") }
    var haproxyConfig: String { path("haproxy.cfg") }
    var pgpass: String { path("pgpass") }
    func config(_ node: Node) -> String { path("\(node.name).yml") }
    func nodeDirectory(_ node: Node) -> String { path(node.name) }
    func log(_ name: String) -> String { path("logs", "\(name).log") }
}

/// Which HA agent manages the lab's nodes: Vigil, or Patroni itself (for side-by-side drills).
public enum LabAgent: String, Sendable, CaseIterable {
    case vigil
    case patroni
}

/// How fast the lab's cluster reacts: the guide's own timings, or a profile that fails over
/// in seconds.
public enum LabProfile: String, Sendable, CaseIterable {
    /// ttl 30, loop_wait 10, retry_timeout 30, as the guide writes them.
    case guide
    /// ttl 10, loop_wait 1, retry_timeout 3.
    case fast

    var timings: (ttl: Int, loopWait: Int, retryTimeout: Int) {
        switch self {
        case .guide: (30, 10, 30)
        case .fast: (10, 1, 3)
        }
    }
}
