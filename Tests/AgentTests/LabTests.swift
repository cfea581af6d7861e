import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import Testing
import VigilLab
import VigilPostgres
import VigilSystem
import VigilTestSupport

/// `vigilctl lab up` brings the guide's cluster up, and real HAProxy, configured by Vigil,
/// routes psql's writes to the primary and reads to the replica, following a switchover.
@Suite(.serialized) struct LabTests {
    @Test func labRoutesWritesAndReadsThroughHAProxyAndFollowsASwitchover() async throws {
        let (subnet, directory, vigilctl, common) = try Self.scratchLab("lab")
        defer { directory.remove() }
        let up = try await CommandRun.run(vigilctl, ["lab", "up", "--profile", "fast",
                                                     "--pg-bin", try TestTools.postgresBinDirectory()] + common)
        do {
            #expect(up.exitCode == 0, "\(up.stdout)\n\(up.stderr)")
            #expect(up.stdout.contains("The guide's cluster is up"))

            let write = try await Self.whereAmI(host: "\(subnet).1", port: 5432)
            let read = try await Self.whereAmI(host: "\(subnet).1", port: 5433)
            #expect(write.inRecovery == false)
            #expect(read.inRecovery == true)
            #expect(write.address != read.address)
            // It ends with the member table, and the guide's application user writes through :5432
            // into sqluser_db and reads the row back through :5433.
            #expect(up.stdout.contains("| Member") && up.stdout.contains("| Leader") && up.stdout.contains("| streaming"),
                    "\(up.stdout)")
            #expect(up.stdout.contains("-U sqlUser -d sqluser_db"), "\(up.stdout)")
            try await Self.withGuideUser(host: "\(subnet).1", port: 5432) { connection, logger in
                _ = try await connection.query("CREATE TABLE guide_check (note text)", logger: logger)
                _ = try await connection.query("INSERT INTO guide_check VALUES ('written through HAProxy')", logger: logger)
            }
            let readBack = await eventually(.seconds(15)) {
                (try? await Self.withGuideUser(host: "\(subnet).1", port: 5433) { connection, logger in
                    var notes: [String] = []
                    for try await note in try await connection.query("SELECT note FROM guide_check", logger: logger).decode(String.self) {
                        notes.append(note)
                    }
                    return notes == ["written through HAProxy"]
                }) == true
            }
            #expect(readBack, "sqlUser could not read its row back through :5433")

            // The guide's own haproxy.cfg, as written (checks GET /master and GET /replica every 3 s,
            // fall 3, rise 3, postgres105 a backup), only with the lab's addresses: the REST API
            // answers it as Patroni's does.
            let guideFrontend = "\(subnet).9"
            let guideConfig = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Tests/Fixtures/guide/haproxy.cfg"),
                                         encoding: .utf8)
                .replacingOccurrences(of: "192.168.50.", with: "\(subnet).")
                .replacingOccurrences(of: "bind *:", with: "bind \(guideFrontend):")
            let guidePath = directory.path + "/guide-haproxy.cfg"
            try guideConfig.write(toFile: guidePath, atomically: true, encoding: .utf8)
            let guideHAProxy = try await ChildProcess.spawn(try TestTools.executable("haproxy"), ["-db", "-f", guidePath],
                                                            logPath: directory.path + "/guide-haproxy.log")
            defer { Task { await guideHAProxy.stop(signal: SIGTERM, grace: .seconds(5)) } }
            let guideWrites = await eventually(.seconds(30)) {
                (try? await Self.whereAmI(host: guideFrontend, port: 5432))?.inRecovery == false
            }
            #expect(guideWrites, "the guide's HAProxy never routed :5432 to the primary:\n\(guideHAProxy.logTail())")
            let guideReads = await eventually(.seconds(30)) {
                // Both servers are in the read backend: the primary must have dropped out of it.
                for _ in 0..<4 where (try? await Self.whereAmI(host: guideFrontend, port: 5433))?.inRecovery != true { return false }
                return true
            }
            #expect(guideReads, "the guide's HAProxy kept routing :5433 to the primary:\n\(guideHAProxy.logTail())")

            let leader = write.address == "\(subnet).21" ? "postgres104" : "postgres105"
            let candidate = leader == "postgres104" ? "postgres105" : "postgres104"
            let candidateAddress = leader == "postgres104" ? "\(subnet).22" : "\(subnet).21"
            var request = HTTPClientRequest(url: "http://\(write.address):8008/switchover")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"leader":"\#(leader)","candidate":"\#(candidate)"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(40))
            let body = String(buffer: try await response.body.collect(upTo: 4096))
            #expect(response.status.code == 200 && body == "Successfully switched over to \"\(candidate)\"")
            // HAProxy notices within its check interval (1 s, fall 2): writes follow the new primary.
            let followed = await eventually(.seconds(20)) {
                guard let now = try? await Self.whereAmI(host: "\(subnet).1", port: 5432) else { return false }
                return now.address == candidateAddress && !now.inRecovery
            }
            #expect(followed)
            // The guide's HAProxy follows too, at its own pace (3 s checks, fall 3, rise 3).
            let guideFollowed = await eventually(.seconds(40)) {
                guard let now = try? await Self.whereAmI(host: guideFrontend, port: 5432) else { return false }
                return now.address == candidateAddress && !now.inRecovery
            }
            #expect(guideFollowed, "the guide's HAProxy did not follow the switchover:\n\(guideHAProxy.logTail())")
            await guideHAProxy.stop(signal: SIGTERM, grace: .seconds(5))

            // The guide's failover test as a drill: the primary's service stopped while a client
            // writes through HAProxy. Nothing acknowledged may be lost (the fast shutdown hands the
            // replica every write before the key goes), and the old primary comes back as a replica.
            let drill = try await CommandRun.run(vigilctl, ["lab", "drill", "stop-primary"] + common)
            #expect(drill.exitCode == 0, "\(drill.stdout)\n\(drill.stderr)")
            #expect(drill.stdout.contains(", lost: 0"), "\(drill.stdout)")
            #expect(drill.stdout.contains("streams again"), "\(drill.stdout)")

            // Every other fault: each drill must pass, lose nothing where the configuration promises
            // it, and leave the cluster whole (a running primary, the other node streaming).
            for kind in ["crash-postgres", "switchover", "kill-primary", "agent-crash", "freeze-primary", "isolate-primary", "etcd-down",
                         "hang-postgres"] {
                let run = try await CommandRun.run(vigilctl, ["lab", "drill", kind, "--json"] + common)
                #expect(run.exitCode == 0, "\(kind): \(run.stdout)\n\(run.stderr)")
                let last = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
                let report = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
                #expect(report["drill"] as? String == kind && report["verdict"] as? String == "pass", "\(kind): \(run.stdout)")
                if ["crash-postgres", "switchover"].contains(kind) {
                    #expect(report["lost_writes"] as? Int == 0, "\(kind): \(run.stdout)")
                }
                #expect((report["acknowledged_writes"] as? Int ?? 0) > 0, "\(kind): \(run.stdout)")
                // Where another node takes over, the old primary (fenced when its agent died,
                // froze or was cut off) stopped acknowledging writes before the new one began, on
                // every path.
                if ["switchover", "kill-primary", "agent-crash", "freeze-primary", "isolate-primary"].contains(kind) {
                    let overlap = (report["two_primaries_seconds"] as? NSNumber)?.doubleValue
                    #expect(overlap != nil && overlap! <= 0, "\(kind): \(run.stdout)")
                    let paths = report["paths"] as? [[String: Any]] ?? []
                    #expect(paths.contains { ($0["path"] as? String)?.hasPrefix("direct to ") == true && ($0["acknowledged_writes"] as? Int ?? 0) > 0 },
                            "\(kind): clients writing straight to the primary: \(run.stdout)")
                }
            }
            let reports = (try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/reports")) ?? []
            #expect(reports.contains { $0.hasPrefix("vigil-stop-primary-") && $0.hasSuffix(".json") })
            #expect(reports.contains { $0.hasPrefix("vigil-freeze-primary-") && $0.hasSuffix(".svg") })

            let status = try await CommandRun.run(vigilctl, ["lab", "status"] + common)
            #expect(status.stdout.contains("Leader") && status.stdout.contains("streaming"), "\(status.stdout)")
        }
        let down = try await CommandRun.run(vigilctl, ["lab", "down"] + common)
        #expect(down.exitCode == 0 && down.stdout.contains("The lab is down"), "\(down.stdout)\n\(down.stderr)")
        // Nothing of isolate-primary outlives the lab: no drop rules, no cgroups.
        let rules = try await CommandRun.run("/usr/sbin/iptables", ["-S"])
        #expect(rules.exitCode == 0 && !rules.stdout.contains("vigil-\(subnet)"), "\(rules.stdout)\(rules.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/vigil-lab-\(subnet)")
                && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/vigil-lab-\(subnet)"))

        // A drill on a lab that is not up refuses with the reason.
        let refused = try await CommandRun.run(vigilctl, ["lab", "drill", "switchover"] + common)
        #expect(refused.exitCode == 1 && refused.stderr.contains("the lab is not up"), "\(refused.stderr)")

        // lab up with a port taken names the port and the process holding it.
        let squatter = try PortListener(host: "\(subnet).1", port: 5433)
        defer { squatter.close() }
        let blocked = try await CommandRun.run(vigilctl, ["lab", "up", "--profile", "fast",
                                                          "--pg-bin", try TestTools.postgresBinDirectory()] + common)
        #expect(blocked.exitCode == 1, "\(blocked.stdout)\n\(blocked.stderr)")
        #expect(blocked.stderr.contains("\(subnet).1:5433 (HAProxy's read port) is taken by") && blocked.stderr.contains("(pid \(getpid()))"),
                "\(blocked.stderr)")
    }

    /// A bigger lab: three PostgreSQL nodes under three etcd members. Every replica streams,
    /// the store survives the loss of one member, and a drill still passes on it.
    @Test func threeNodesAndThreeEtcdMembers() async throws {
        let (subnet, directory, vigilctl, common) = try Self.scratchLab("lab3")
        defer { directory.remove() }
        let up = try await CommandRun.run(vigilctl, ["lab", "up", "--profile", "fast", "--nodes", "3", "--etcd-members", "3",
                                                     "--pg-bin", try TestTools.postgresBinDirectory()] + common)
        do {
            #expect(up.exitCode == 0, "\(up.stdout)\n\(up.stderr)")
            #expect(up.stdout.contains("starting etcd lab3 on \(subnet).3:2379"), "\(up.stdout)")
            let status = try await CommandRun.run(vigilctl, ["lab", "status"] + common)
            let lines = status.stdout.split(separator: "\n")
            #expect(lines.filter { $0.contains("Leader") }.count == 1 && lines.filter { $0.contains("streaming") }.count == 2,
                    "\(status.stdout)")
            // The store's raft leader gone: the other two members elect another and keep the
            // quorum, and the cluster works on (a drill started during the election waits for it).
            let endpoints = (1...3).map { "http://\(subnet).\($0):2379" }
            let leader = try await Self.etcdRaftLeader(endpoints: endpoints)
            let suffix = leader == 1 ? "" : "\(leader)"  // the lab names its members lab, lab2, lab3
            let killed = try await CommandRun.run("/usr/bin/pkill", ["-KILL", "-f", "etcd --name lab\(suffix) --data-dir \(directory.path)/etcd/data\(suffix)"])
            #expect(killed.exitCode == 0, "no etcd member lab\(suffix) to stop")
            let drill = try await CommandRun.run(vigilctl, ["lab", "drill", "switchover", "--json"] + common)
            #expect(drill.exitCode == 0 && drill.stdout.contains(#""verdict":"pass""#), "\(drill.stdout)\n\(drill.stderr)")
        }
        let down = try await CommandRun.run(vigilctl, ["lab", "down"] + common)
        #expect(down.exitCode == 0 && down.stdout.contains("The lab is down"), "\(down.stdout)\n\(down.stderr)")
        let left = try await CommandRun.run("/usr/bin/pgrep", ["-f", directory.path + "/"])
        #expect(left.stdout.isEmpty, "processes left behind: \(left.stdout)")
    }

    /// Which of the lab's etcd members (1-based, in the order of `endpoints`) is the raft leader.
    static func etcdRaftLeader(endpoints: [String]) async throws -> Int {
        let run = try await CommandRun.run(try TestTools.executable("etcdctl"),
                                           ["--endpoints=\(endpoints.joined(separator: ","))", "endpoint", "status", "-w", "json"])
        let statuses = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [[String: Any]] ?? []
        for (index, endpoint) in endpoints.enumerated() {
            guard let entry = statuses.first(where: { $0["Endpoint"] as? String == endpoint }),
                  let status = entry["Status"] as? [String: Any], let header = status["header"] as? [String: Any],
                  let me = (header["member_id"] as? NSNumber)?.uint64Value,
                  let leader = (status["leader"] as? NSNumber)?.uint64Value else { continue }
            if me == leader { return index + 1 }
        }
        throw AgentTestError("no etcd raft leader among \(endpoints): \(run.stdout)\(run.stderr)")
    }

    /// A lab of the test's own: a /24 no one else uses (so it never meets a lab someone runs),
    /// a fresh directory, the built vigilctl, and the options every lab command then takes.
    static func scratchLab(_ label: String) throws -> (subnet: String, directory: TestDirectory, vigilctl: String,
                                                       common: [String]) {
        let subnet = "127.\(Int.random(in: 100...250)).\(Int.random(in: 1...250))"
        let directory = try TestDirectory.make(label)
        return (subnet, directory, try CommandRun.product("vigilctl"), ["--dir", directory.path, "--subnet", subnet])
    }

    /// Runs `body` connected as the guide's sqlUser to sqluser_db.
    @discardableResult
    static func withGuideUser<T: Sendable>(host: String, port: Int,
                                           _ body: (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await LabPostgres(host: host, port: port, user: "sqlUser", password: guidePassword, database: "sqluser_db")
            .withConnection(body)
    }

    /// Which server a connection through HAProxy reaches, and whether it is in recovery.
    static func whereAmI(host: String, port: Int) async throws -> (address: String, inRecovery: Bool) {
        try await LabPostgres(host: host, port: port, password: guidePassword).withConnection { connection, logger in
            let rows = try await connection.query("SELECT host(inet_server_addr()), pg_is_in_recovery()", logger: logger)
            var answer: (String, Bool)?
            for try await (address, recovery) in rows.decode((String, Bool).self) { answer = (address, recovery) }
            guard let answer else { throw AgentTestError("no answer through \(host):\(port)") }
            return answer
        }
    }

    /// The guide's password, for postgres and sqlUser alike.
    static let guidePassword = "Qwe1234!"
}
