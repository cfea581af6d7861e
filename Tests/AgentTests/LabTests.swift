import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import Testing
import VigilTestSupport

/// `vigilctl lab up` brings the guide's cluster up, and real HAProxy, configured by Vigil,
/// routes psql's writes to the primary and reads to the replica, following a switchover.
@Suite(.serialized) struct LabTests {
    @Test func labRoutesWritesAndReadsThroughHAProxyAndFollowsASwitchover() async throws {
        // A /24 of its own, so the test never meets a lab someone else runs.
        let subnet = "127.\(Int.random(in: 100...250)).\(Int.random(in: 1...250))"
        let directory = try TestDirectory.make("lab")
        let vigilctl = try CommandRun.product("vigilctl")
        let common = ["--dir", directory.path, "--subnet", subnet]
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

            // The guide's failover test as a drill: the primary's service stopped while a client
            // writes through HAProxy. Nothing acknowledged may be lost (the fast shutdown hands the
            // replica every write before the key goes), and the old primary comes back as a replica.
            let drill = try await CommandRun.run(vigilctl, ["lab", "drill", "stop-primary"] + common)
            #expect(drill.exitCode == 0, "\(drill.stdout)\n\(drill.stderr)")
            #expect(drill.stdout.contains(", lost: 0"), "\(drill.stdout)")
            #expect(drill.stdout.contains("streams again"), "\(drill.stdout)")
            let reports = (try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/reports")) ?? []
            #expect(reports.contains { $0.hasPrefix("vigil-stop-primary-") })
        }
        let down = try await CommandRun.run(vigilctl, ["lab", "down"] + common)
        #expect(down.exitCode == 0 && down.stdout.contains("The lab is down"), "\(down.stdout)\n\(down.stderr)")
    }

    /// Which server a connection through HAProxy reaches, and whether it is in recovery.
    static func whereAmI(host: String, port: Int) async throws -> (address: String, inRecovery: Bool) {
        let logger = Logger(label: "lab-test")
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: host, port: port, username: "postgres", password: "Qwe1234!", database: "postgres",
                                 tls: .disable),
            id: 1, logger: logger)
        do {
            let rows = try await connection.query("SELECT host(inet_server_addr()), pg_is_in_recovery()", logger: logger)
            var answer: (String, Bool)?
            for try await (address, recovery) in rows.decode((String, Bool).self) { answer = (address, recovery) }
            try? await connection.close()
            guard let answer else { throw AgentTestError("no answer through \(host):\(port)") }
            return answer
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
