import Foundation
import PostgresNIO
import Testing
import VigilSystem
import VigilTestSupport

/// A few real agents against one real etcd, stopped (and their logs shown on failure) when
/// the test ends.
struct AgentCluster {
    let etcd: TestEtcd
    let scope: String
    var agents: [TestAgent] = []

    init(etcd: TestEtcd) {
        self.etcd = etcd
        scope = "agent-\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// Timings default to the fast ones every agent test uses (ttl 6, loop_wait 1, retry_timeout 2).
    mutating func add(_ name: String, tags: [String] = [], maximumLagOnFailover: Int = 1_048_576,
                      timings: (ttl: Int, loopWait: Int, retryTimeout: Int) = (6, 1, 2),
                      host: String? = nil, restAuthentication: (username: String, password: String)? = nil,
                      restapiLines: [String] = [], postgresqlLines: [String] = [], dcsLines: [String] = [],
                      parameterLines: [String] = [], extraConfig: String = "") throws -> TestAgent {
        let agent = try TestAgent(name: name, scope: scope, etcdEndpoints: [etcd.endpoint], ttl: timings.ttl,
                                  loopWait: timings.loopWait, retryTimeout: timings.retryTimeout,
                                  maximumLagOnFailover: maximumLagOnFailover, tags: tags, host: host,
                                  restAuthentication: restAuthentication, restapiLines: restapiLines,
                                  postgresqlLines: postgresqlLines, dcsLines: dcsLines,
                                  parameterLines: parameterLines, extraConfig: extraConfig)
        agents.append(agent)
        return agent
    }

    static func with(_ body: (inout AgentCluster) async throws -> Void) async throws {
        try await TestEtcd.with { etcd in
            var cluster = AgentCluster(etcd: etcd)
            var failure: (any Error)?
            do {
                try await body(&cluster)
            } catch {
                for agent in cluster.agents { print(agent.logTail(lines: 150)) }
                failure = error
            }
            for agent in cluster.agents { await agent.stop() }
            // A WAL receiver a test froze (SIGSTOP) can outlive its postmaster: the cluster's
            // processes carry its name (cluster_name = scope) in their titles. Failed tests too.
            _ = try? await CommandRun.run("/usr/bin/pkill", ["-KILL", "-f", "postgres: \(cluster.scope): "])
            if let failure { throw failure }
        }
    }

    /// Starts `leader` alone (it bootstraps the cluster), then `replicas`, and requires each of
    /// them to stream from it.
    func form(leader: TestAgent, replicas: TestAgent...) async throws {
        try await leader.start()
        try await require("\(leader.name) bootstraps and leads", within: .seconds(60)) { await leader.isPrimary() }
        for replica in replicas { try await replica.start() }
        for replica in replicas {
            try await require("\(replica.name) clones and streams", within: .seconds(90)) { await replica.isStreamingReplica() }
        }
    }

    /// Fails the test with every agent's log when `condition` does not hold within `timeout`.
    func require(_ what: String, within timeout: Duration, _ condition: () async -> Bool) async throws {
        guard await eventually(timeout, condition) else {
            for agent in agents { print(agent.logTail(lines: 150)) }
            throw AgentTestError("\(what): not within \(timeout)")
        }
    }

    func etcdctl(_ arguments: [String]) async throws -> CommandRun {
        try await CommandRun.run(try TestTools.executable("etcdctl"), ["--endpoints=\(etcd.endpoint)"] + arguments,
                                 environment: ["ETCDCTL_API": "3"])
    }

    func key(_ name: String) -> String { "/db/\(scope)/\(name)" }

    func get(_ name: String) async throws -> String? {
        let run = try await etcdctl(["get", key(name), "--print-value-only"])
        let value = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }
}

struct AgentTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension PostgresConnection {
    func count(_ table: String) async throws -> Int {
        let rows = try await query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)"), logger: logger)
        for try await (n) in rows.decode(Int.self) { return n }
        return -1
    }

    func run(_ sql: String) async throws {
        _ = try await query(PostgresQuery(unsafeSQL: sql), logger: logger).get()
    }

    func int(_ sql: String) async throws -> Int {
        let rows = try await query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await (n) in rows.decode(Int.self) { return n }
        return -1
    }
}
