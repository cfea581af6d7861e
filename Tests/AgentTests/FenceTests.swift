import Foundation
import Testing
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The fence outside the agent: a primary whose agent is killed or frozen stops taking writes
/// before its lease ends, so no replica is promoted beside it.
@Suite(.serialized) struct FenceTests {
    /// kill -9 (or SIGSTOP) of the primary's agent alone: at no moment after the leader key has
    /// lapsed does the old primary's PostgreSQL still run, and the replica takes over. A frozen
    /// agent, once it runs again, finds its PostgreSQL stopped and rejoins as a replica.
    @Test(arguments: [SIGKILL, SIGSTOP])
    func anAgentThatDiesOrFreezesLeavesNoPrimaryBehindItsLease(signal: Int32) async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)
            let processes = first.postgresProcesses()
            #expect(!processes.isEmpty)
            first.current?.signal(signal)
            var outlived = false
            try await cluster.require("node2 leads", within: .seconds(60)) {
                // Read the key first: a primary still running after that read outlived its lease.
                let leader = try? await cluster.get("leader")
                let gone = processes.allSatisfy(ProcessTable.isGone)
                if leader != "node1", !gone { outlived = true }
                guard leader == "node2" else { return false }
                return await second.isPrimary()
            }
            #expect(!outlived, "node1's PostgreSQL ran after its lease had ended")
            #expect(processes.allSatisfy(ProcessTable.isGone))
            #expect(first.fullLog().contains("vigil fence: deadline passed without a renewal of the leader key"))
            if signal == SIGSTOP {
                first.current?.signal(SIGCONT)
                try await cluster.require("node1 rejoins as a replica", within: .seconds(90)) { await first.isStreamingReplica() }
                #expect(first.fullLog().contains("the fence stopped PostgreSQL"))
            }
        }
    }

    /// An agent that holds the lock arms the fence after every renewal, and disarms it when it
    /// hands the lock over in a switchover: the demoted node's PostgreSQL keeps running as a
    /// replica well past the old deadline.
    @Test func aSwitchoverDisarmsTheOldPrimarysFence() async throws {
        try await AgentCluster.with { cluster in
            let first = try cluster.add("node1")
            let second = try cluster.add("node2")
            try await cluster.form(leader: first, replicas: second)
            #expect(first.fullLog().contains("vigil fence: armed"))
            _ = try await cluster.etcdctl(["put", cluster.key("failover"), #"{"leader":"node1","member":"node2"}"#])
            try await cluster.require("node2 leads", within: .seconds(30)) { await second.isPrimary() }
            try await cluster.require("node1 streams from node2", within: .seconds(60)) { await first.isStreamingReplica() }
            #expect(first.fullLog().contains("vigil fence: disarmed"))
            let postmaster = try #require(first.postgresProcesses().first)
            // Twice the lease: an armed fence would have fired by now.
            try await Task.sleep(for: .seconds(12))
            #expect(!ProcessTable.isGone(postmaster))
            #expect(!first.fullLog().contains("deadline passed"))
        }
    }
}
