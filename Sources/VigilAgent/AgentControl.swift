import VigilAPI
import VigilCore
import VigilDCS
import VigilPostgres

/// The REST API's way into the agent: store reads and operator writes go straight to etcd;
/// anything that touches PostgreSQL is queued to the HA loop, which runs it between cycles.
struct AgentControl: ClusterControl {
    let store: EtcdStore
    let probe: PeerProbe
    let loop: HALoop
    let instance: PostgresInstance

    func readCluster() async throws -> ClusterState { try await store.readCluster() }

    func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws -> Bool {
        try await store.setFailover(request, expectedVersion: expectedVersion)
    }

    func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws -> Bool {
        try await store.setConfig(value, expectedVersion: expectedVersion)
    }

    func peerStatus(_ member: Member) async -> PeerStatus { await probe.status(of: member) }

    var loopWait: Int { get async { await loop.settings.timings.loopWait } }

    func perform(_ operation: LocalOperation) async -> (status: Int, message: String) {
        await loop.submit(operation)
    }

    func livePositions() async -> LivePositions {
        await instance.walPositions(timeout: .seconds(1)).map(LivePositions.read) ?? .unanswered
    }
}
