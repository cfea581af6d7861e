import VigilAPI
import VigilCore

/// An in-memory stand-in for the agent behind the REST handlers: one ClusterState that acts as
/// the store (versions and compare-and-swap as etcd does them), peers that answer with scripted
/// statuses, and a record of every write, so a test can check both the answer and what reached
/// the store.
actor FakeClusterControl: ClusterControl {
    /// One write as the handler asked for it, whether the store accepted it or not.
    struct Write<Value: Sendable & Equatable>: Sendable, Equatable {
        var value: Value
        var expectedVersion: Int64?
    }

    /// What the rest of the cluster does once an immediate switchover or failover request is in
    /// the store (the HA loops are not here, so the fake plays their part).
    enum Outcome: Sendable {
        /// Nobody acts; the handler would poll until it gives up.
        case nothing
        /// `name` takes the leader lock and, having won, clears the request (spec §3.6).
        case leaderChanges(to: String)
        /// The leader refuses the request and clears it; the lock stays where it was.
        case requestCleared
    }

    struct StoreDown: Error {}

    private(set) var cluster: ClusterState
    private(set) var failoverWrites: [Write<FailoverRequest>] = []
    private(set) var configWrites: [Write<JSONValue>] = []
    /// Members whose status was asked for, in order.
    private(set) var probed: [String] = []

    private let peers: [String: PeerStatus]
    private let outcome: Outcome
    private let failReads: Bool
    private let failWrites: Bool
    /// Another writer's value that lands between the handler's read and its write, once.
    private var concurrentConfig: JSONValue?
    private var concurrentFailover: FailoverRequest?
    /// Fresh versions start well above those of the initial state, so a stale one never matches by accident.
    private var revision: Int64 = 1000

    nonisolated let loopWait: Int

    init(_ cluster: ClusterState, peers: [PeerStatus] = [], outcome: Outcome = .nothing, loopWait: Int = 1,
         failReads: Bool = false, failWrites: Bool = false,
         concurrentConfig: JSONValue? = nil, concurrentFailover: FailoverRequest? = nil) {
        self.cluster = cluster
        self.peers = Dictionary(peers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.outcome = outcome
        self.loopWait = loopWait
        self.failReads = failReads
        self.failWrites = failWrites
        self.concurrentConfig = concurrentConfig
        self.concurrentFailover = concurrentFailover
    }

    func readCluster() async throws -> ClusterState {
        if failReads { throw StoreDown() }
        return cluster
    }

    func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws -> Bool {
        failoverWrites.append(Write(value: request, expectedVersion: expectedVersion))
        if failWrites { throw StoreDown() }
        if let concurrent = concurrentFailover {
            concurrentFailover = nil
            cluster.failover = Versioned(concurrent, version: nextRevision())
        }
        if let expectedVersion, cluster.failover?.version != expectedVersion { return false }
        cluster.failover = Versioned(request, version: nextRevision())
        // Only an immediate request sets the cluster in motion; a scheduled one waits, a cleared one is nothing.
        guard !request.isEmpty, request.scheduledAt == nil else { return true }
        switch outcome {
        case .nothing:
            break
        case let .leaderChanges(to: name):
            cluster.leader = LeaderLock(name: name, version: nextRevision())
            cluster.failover = Versioned(FailoverRequest(), version: nextRevision())
        case .requestCleared:
            cluster.failover = Versioned(FailoverRequest(), version: nextRevision())
        }
        return true
    }

    func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws -> Bool {
        configWrites.append(Write(value: value, expectedVersion: expectedVersion))
        if failWrites { throw StoreDown() }
        if let concurrent = concurrentConfig {
            concurrentConfig = nil
            cluster.config = Versioned(concurrent, version: nextRevision())
        }
        if let expectedVersion, cluster.config?.version != expectedVersion { return false }
        cluster.config = Versioned(value, version: nextRevision())
        return true
    }

    /// A member that was not scripted stays silent, which a real probe reports as unreachable.
    func peerStatus(_ member: Member) async -> PeerStatus {
        probed.append(member.name)
        return peers[member.name] ?? .unreachable(member.name)
    }

    func perform(_ operation: LocalOperation) async -> (status: Int, message: String) {
        (501, "not used by these tests")
    }

    private func nextRevision() -> Int64 {
        revision += 1
        return revision
    }
}

/// Small clusters and peers for the handler tests.
enum Sample {
    static func member(_ name: String, role: String = "replica") -> Member {
        Member(name: name, record: MemberRecord(connURL: "postgres://\(name):5432/postgres",
                                                apiURL: "http://\(name):8008/patroni", state: "running", role: role))
    }

    /// n1 holds the leader lock; n2 and n3 are its replicas.
    static func threeNodes(failover: Versioned<FailoverRequest>? = nil, config: Versioned<JSONValue>? = nil) -> ClusterState {
        ClusterState(initialize: "7268616322854375442", config: config, leader: LeaderLock(name: "n1", version: 5),
                     members: [member("n1", role: "primary"), member("n2"), member("n3")], failover: failover)
    }

    /// A streaming replica as `GET /patroni` reports it: reachable, in recovery, allowed to promote.
    static func replica(_ name: String, wal: Int64 = 5000) -> PeerStatus {
        PeerStatus(name: name, reachable: true, inRecovery: true, walPosition: wal, timeline: 2)
    }
}
