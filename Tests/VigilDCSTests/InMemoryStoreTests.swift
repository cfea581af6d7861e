import Foundation
import Testing
import VigilCore
import VigilDCS

/// The in-memory store's own knobs: faults and compaction, used by the HA simulation.
@Suite struct InMemoryStoreTests {
    let layout = KeyLayout(namespace: "/db/", scope: "mem")

    @Test func anUnreachableConnectionFailsAndLeavesTheStoreAlone() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, connection) = memory.store(layout: layout, memberName: "n1")
        connection.faults = StoreFaults(unreachable: true)
        let error = await #expect(throws: StoreError.self) { try await n1.acquireLeader() }
        #expect(error?.kind == .unreachable)
        connection.faults = .none
        #expect(try await n1.readCluster().leader == nil)
        #expect(try await n1.acquireLeader())
    }

    @Test func aLostResponseAfterCommitStillLeavesTheKeyTaken() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, connection) = memory.store(layout: layout, memberName: "n1")
        try await n1.publishMember(MemberRecord(state: "running"))
        // The lease is extended first (its answer arrives), then the write's answer is lost.
        connection.faults = StoreFaults(loseWriteResponsesAfterCommit: true)
        let error = await #expect(throws: StoreError.self) { try await n1.acquireLeader() }
        #expect(error?.kind == .timedOut)
        connection.faults = .none
        #expect(try await n1.readCluster().leader?.name == "n1")
        #expect(try await n1.acquireLeader(), "retrying recognises its own earlier win")
        #expect(try await n1.renewLeader() == .held)
    }

    @Test func latencyBeyondTheBudgetTimesOutWithoutWriting() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, connection) = memory.store(layout: layout, memberName: "n1", retryTimeout: 2)
        connection.faults = StoreFaults(latency: .seconds(3))
        let error = await #expect(throws: StoreError.self) { try await n1.setStatus(StatusRecord(optime: 1)) }
        #expect(error?.kind == .timedOut)
        connection.faults = .none
        #expect(try await n1.readCluster().status == nil)
    }

    @Test func latencyIsTimeOnTheManualClock() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, connection) = memory.store(layout: layout, memberName: "n1", retryTimeout: 2)
        connection.faults = StoreFaults(latency: .milliseconds(1500))
        _ = try await n1.readCluster()
        #expect(memory.clock.now == .milliseconds(1500))
        // Two requests in one call share its budget: the second gives up when it runs out.
        let error = await #expect(throws: StoreError.self) { try await n1.acquireLeader() }
        #expect(error?.kind == .timedOut)
        #expect(memory.clock.now == .milliseconds(3500))
    }

    /// While a member leads, no call runs past its deadline (EtcdStore.endCalls(by:)): one cut
    /// short there says so, and lifting the end gives calls their whole retry_timeout again.
    @Test func callsEndByTheLeadersDeadline() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, connection) = memory.store(layout: layout, memberName: "n1", retryTimeout: 4)
        #expect(try await n1.acquireLeader())
        connection.faults = StoreFaults(latency: .seconds(3))
        await n1.endCalls(by: memory.clock.now + .seconds(2))
        let error = await #expect(throws: StoreError.self) { try await n1.renewLeader() }
        #expect(error?.kind == .timedOut)
        #expect(memory.clock.now == .seconds(2))
        // Past the end, a call gives up at once, and says why.
        let late = await #expect(throws: StoreError.self) { try await n1.readCluster() }
        #expect(late?.description.contains("leader's deadline") == true, "\(String(describing: late))")
        #expect(memory.clock.now == .seconds(2))
        await n1.endCalls(by: nil)
        #expect(try await n1.readCluster().leader?.name == "n1")
        #expect(memory.clock.now == .seconds(5))
    }

    @Test func aCompactedWatchResyncs() async throws {
        let memory = InMemoryStore(clock: .manual())
        let (n1, _) = memory.store(layout: layout, memberName: "n1")
        let changes = ChangeRecorder(n1.changes())
        #expect(await changes.next { $0 == .resynced })
        while await memory.watchCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        await memory.compact(through: await memory.currentRevision)
        await memory.dropWatches()
        #expect(await changes.next { $0 == .resynced }, "a dropped watch is followed by a resync")
        #expect(try await n1.acquireLeader())
        #expect(await changes.next { $0 == .key("leader", deleted: false) })
    }
}

extension InMemoryStoreTests {
    /// A key is parsed again only when its revision changed; a read after a change sees it.
    @Test func theDecodeCacheFollowsEveryChange() {
        let layout = KeyLayout(namespace: "/t/", scope: "c")
        func kv(_ key: String, _ value: String, _ revision: Int64) -> KeyValue {
            KeyValue(key: layout.key(key), value: value, createRevision: 1, modRevision: revision, lease: 0)
        }
        var cache = ClusterStateDecoder.Cache()
        let first = ClusterStateDecoder.decode([kv("config", #"{"ttl": 30}"#, 5), kv("members/n1", #"{"state": "running"}"#, 6)],
                                               layout: layout, revision: 6, cache: &cache)
        #expect(first.config?.value["ttl"] == .int(30) && first.members.first?.record.state == "running")
        let second = ClusterStateDecoder.decode([kv("config", #"{"ttl": 30}"#, 5), kv("members/n1", #"{"state": "stopped"}"#, 7)],
                                                layout: layout, revision: 7, cache: &cache)
        #expect(second.members.first?.record.state == "stopped")
        // A key deleted and written again under a new revision is read anew.
        let third = ClusterStateDecoder.decode([kv("config", #"{"ttl": 20}"#, 9)], layout: layout, revision: 9, cache: &cache)
        #expect(third.config?.value["ttl"] == .int(20) && third.members.isEmpty)
        // Unreadable values are reported, not cached as readable.
        let bad = ClusterStateDecoder.decode([kv("config", "{", 10)], layout: layout, revision: 10, cache: &cache)
        #expect(bad.config == nil && bad.problems.count == 1)
    }
}
