import Foundation
import Synchronization
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

/// Records a change stream from one long-lived consumer (an AsyncStream ends when its
/// iterator is dropped, so tests must not iterate it piecemeal) and lets a test wait for
/// the next change it cares about.
final class ChangeRecorder: Sendable {
    private struct State {
        var seen: [StoreChange] = []
        var cursor = 0
    }

    private final class Box: Sendable {
        let state = Mutex(State())
    }

    private let box = Box()
    private let pump: Task<Void, Never>

    init(_ stream: AsyncStream<StoreChange>) {
        let box = self.box
        pump = Task { for await change in stream { box.state.withLock { $0.seen.append(change) } } }
    }

    deinit { pump.cancel() }

    /// Waits up to `timeout` for a change after the last one matched; true if it came.
    func next(timeout: Duration = .seconds(10), where matches: (StoreChange) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = box.state.withLock { state -> Bool in
                guard let index = state.seen[state.cursor...].firstIndex(where: matches) else { return false }
                state.cursor = index + 1
                return true
            }
            if found { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
