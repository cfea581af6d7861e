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
    /// etcd's members: the guide's one on .1, more on .2, .3… (`--etcd-members`).
    public var etcdMembers: [EtcdMember] = []

    /// One etcd member of the lab: the first is named `lab` and keeps its data in etcd/data (as
    /// a one-member lab always has); the others `lab2`, `lab3`… in etcd/data2, etcd/data3….
    public struct EtcdMember: Sendable {
        public var name: String
        public var host: String
        public var dataSuffix: String
    }

    /// - Parameters:
    ///   - subnet: the first three octets of every address (the guide's 192.168.50 becomes 127.0.50).
    ///   - nodes: PostgreSQL nodes, postgres104 on .21, postgres105 on .22, postgres106 on .23…
    ///   - etcdMembers: etcd members, on .1, .2, .3…
    public static let defaultSubnet = "127.0.50"
    /// The first three octets of every address.
    public let subnet: String

    public init(directory: String, subnet: String = LabLayout.defaultSubnet, nodes: Int = 2, etcdMembers: Int = 1) {
        self.subnet = subnet
        let absolute = directory.hasPrefix("/") ? directory
            : FileManager.default.currentDirectoryPath + "/" + directory
        self.directory = (absolute as NSString).standardizingPath
        etcdHost = "\(subnet).1"
        haproxyHost = "\(subnet).1"
        self.nodes = (0..<max(1, nodes)).map { Node(name: "postgres\(104 + $0)", host: "\(subnet).\(21 + $0)") }
        self.etcdMembers = (0..<max(1, etcdMembers)).map {
            EtcdMember(name: $0 == 0 ? "lab" : "lab\($0 + 1)", host: "\(subnet).\(1 + $0)", dataSuffix: $0 == 0 ? "" : "\($0 + 1)")
        }
    }

    func path(_ parts: String...) -> String { ([directory] + parts).joined(separator: "/") }

    /// What `lab up` last used here (the file `lab.conf`: `agent profile nodes etcd-members subnet sync`).
    var recorded: (agent: String?, profile: String?, nodes: Int?, etcdMembers: Int?, subnet: String?, sync: String?) {
        let words = ((try? String(contentsOfFile: path("lab.conf"), encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
            .map(String.init)
        func word(_ i: Int) -> String? { words.count > i ? words[i] : nil }
        return (word(0), word(1), word(2).flatMap { Int($0) }, word(3).flatMap { Int($0) }, word(4), word(5))
    }

    var etcdEndpoint: String { "\(etcdHost):\(etcdClientPort)" }
    var etcdEndpoints: [String] { etcdMembers.map { "\($0.host):\(etcdClientPort)" } }
    func etcdDataDirectory(_ member: EtcdMember) -> String { path("etcd", "data" + member.dataSuffix) }
    /// What `pgrep -f` finds a member's etcd by.
    func etcdPattern(_ member: EtcdMember) -> String { "etcd --name \(member.name) --data-dir \(etcdDataDirectory(member))" }
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

/// How the lab's cluster replicates: asynchronously as the guide does, or in one of
/// Patroni's synchronous modes (`bootstrap.dcs.synchronous_mode`).
public enum LabSync: String, Sendable, CaseIterable {
    /// Asynchronous, as the guide runs it.
    case off
    /// `synchronous_mode: on`: commits wait for the synchronous standby while there is one.
    case on
    /// `synchronous_mode: on` and `synchronous_mode_strict: true`: commits always wait for one.
    case strict
    /// `synchronous_mode: quorum`: commits wait for any one of the standbys.
    case quorum

    /// The lines of bootstrap.dcs.
    var dcsLines: [String] {
        switch self {
        case .off: []
        case .on: ["synchronous_mode: on"]
        case .strict: ["synchronous_mode: on", "synchronous_mode_strict: true"]
        case .quorum: ["synchronous_mode: quorum"]
        }
    }
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
