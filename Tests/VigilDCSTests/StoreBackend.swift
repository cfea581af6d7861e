import Foundation
import Testing
import VigilCore
import VigilDCS
import VigilTestSupport

/// The two stores the same protocol tests run against: a real etcd and the in-memory one.
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case etcd
    case memory

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh backend and cleans up after it.
    func with(_ body: (Backend) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(Backend(kind: self, memory: InMemoryStore(clock: .manual()), etcd: nil))
        case .etcd:
            try await TestEtcd.with { etcd in try await body(Backend(kind: self, memory: nil, etcd: etcd)) }
        }
    }
}

struct Backend: Sendable {
    let kind: BackendKind
    let memory: InMemoryStore?
    let etcd: TestEtcd?
    let layout = KeyLayout(namespace: "/db/", scope: "t\(UUID().uuidString.prefix(8))")

    /// etcd will not grant a lease shorter than about 2 s; 3 s keeps the real-time tests short.
    static let shortTTL = 3

    func kv() throws -> any EtcdKV {
        if let memory { return memory.connection() }
        return try EtcdGateway(settings: EtcdConnectionSettings(hosts: [etcd!.endpoint]))
    }

    func store(_ member: String?, ttl: Int = 30, retryTimeout: Int = 5) throws -> EtcdStore {
        EtcdStore(kv: try kv(), layout: layout, memberName: member, ttl: ttl, retryTimeout: retryTimeout)
    }

    /// Writes a raw value, as another tool (or a person with etcdctl) might.
    func writeRaw(_ relative: String, _ value: String) async throws {
        _ = try await kv().txn(Txn(compare: [], success: [.put(layout.key(relative), value, lease: 0)]), budget: .seconds(5))
    }

    /// Lets `seconds` pass for the leases: real time for etcd, the manual clock for memory.
    func letTimePass(seconds: Int) async throws {
        if let memory {
            memory.clock.advance(by: .seconds(seconds))
            await memory.expireLeases()
        } else {
            try await Task.sleep(for: .seconds(seconds))
        }
    }
}

/// Waits for the first element of `stream` that `matches`, for at most `timeout`.
func firstChange(in stream: AsyncStream<StoreChange>, timeout: Duration = .seconds(10),
                 where matches: @escaping @Sendable (StoreChange) -> Bool) async -> StoreChange? {
    await withTaskGroup(of: StoreChange?.self) { group in
        group.addTask {
            for await change in stream where matches(change) { return change }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
