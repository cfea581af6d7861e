import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Testing
import VigilAPI
import VigilCore
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The REST server on a real socket, fed random requests (methods, paths, query strings,
/// headers, bodies) and raw bytes that are not HTTP at all: every request gets an answer
/// with an HTTP status, and the server still answers afterwards.
@Suite struct RestFuzzTests {
    @Test func anyRequestGetsAnAnswerAndTheServerStaysUp() async throws {
        let (host, port) = try LoopbackAddress.freeEndpoint()
        let members = ["n1", "n2", "n3"].map { name in
            Member(name: name, record: MemberRecord(connURL: "postgres://127.0.0.1:5432/postgres",
                                                    apiURL: "http://127.0.0.1:8008/patroni", state: "running",
                                                    role: name == "n1" ? "primary" : "replica"))
        }
        let cluster = ClusterState(initialize: "7268616322854375442", config: Versioned<JSONValue>(["ttl": 30, "loop_wait": 10], version: 3),
                                   leader: LeaderLock(name: "n1", version: 5), members: members)
        let snapshot = NodeSnapshot(scope: "fuzz", name: "n1", postgres: PostgresStatus(state: .running),
                                    internalRole: "primary", cluster: cluster)
        let server = RestServer(source: SnapshotBox(snapshot), control: StillCluster(cluster),
                                access: AccessControl(username: "fuzz", password: "secret"))
        let app = try server.application(host: host, port: port, logger: Logger(label: "fuzz.rest"))
        let running = Task { try await app.run() }
        defer { running.cancel() }
        let base = "http://\(host):\(port)"
        #expect(await eventually(.seconds(10)) { await Self.status(base + "/liveness") == 200 })

        var input = FuzzInput(seed: FuzzInput.seed &+ 10)
        let segments = ["", "patroni", "primary", "master", "replica", "read-only", "health", "liveness", "readiness",
                        "cluster", "history", "config", "metrics", "switchover", "failover", "restart", "reload",
                        "reinitialize", "failsafe", "sync", "asynchronous", "standby-leader", "leader"]
        let queries = ["lag", "tag_nofailover", "tag_clonefrom", "replication_state", "mode"]
        let bodyKeys = ["leader", "candidate", "member", "scheduled_at", "schedule", "role", "postgres_version",
                        "timeout", "restart_pending", "force", "from-leader", "ttl", "loop_wait", "retry_timeout", "pause",
                        "postgresql", "parameters", "maximum_lag_on_failover"]
        let methods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .POST, .PUT, .PATCH, .DELETE, .init(rawValue: "FUZZ")]
        for iteration in 0..<FuzzInput.iterations(300) {
            var path = "/" + input.pick(segments)
            if input.chance(20) { path += "/" + Self.escaped(input.text()) }
            if input.chance(40) {
                path += "?" + (0..<(1 + input.below(3))).map { _ in
                    "\(input.pick(queries))=\(Self.escaped(input.chance(50) ? input.numberText() : input.text()))"
                }.joined(separator: "&")
            }
            var request = HTTPClientRequest(url: base + path)
            request.method = input.pick(methods)
            if input.chance(70) {
                request.headers.add(name: "Authorization", value: input.chance(80) ? "Basic ZnV6ejpzZWNyZXQ=" : input.text())
            }
            if input.chance(50) { request.headers.add(name: "Content-Type", value: input.pick(["application/json", "text/plain", input.text()])) }
            if request.method != .GET, request.method != .HEAD, input.chance(80) {
                let body: String
                switch input.below(3) {
                case 0: body = input.json(keys: bodyKeys).compactText
                case 1: body = input.mutate(#"{"leader":"n1","candidate":"n2","scheduled_at":"2030-01-01T10:00:00+00:00"}"#)
                default: body = String(decoding: input.bytes(upTo: 300), as: UTF8.self)
                }
                request.body = .bytes(ByteBuffer(string: body))
            }
            let status: Int
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
                _ = try await response.body.collect(upTo: 1 << 22)
                status = Int(response.status.code)
            } catch {
                status = 0
            }
            #expect((100..<600).contains(status), "seed \(FuzzInput.seed) #\(iteration): \(request.method) \(path) got no HTTP answer")
            #expect(status != 500, "seed \(FuzzInput.seed) #\(iteration): \(request.method) \(path) is a server error")
        }
        // Bytes that are not HTTP: the connection is answered or closed, the server lives on.
        for _ in 0..<FuzzInput.iterations(50) {
            let garbage = input.chance(50) ? input.bytes(upTo: 2000)
                : Array(input.mutate("POST /config HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"ttl\": 30}").utf8)
            Self.sendRaw(garbage, host: host, port: port)
        }
        #expect(await Self.status(base + "/liveness") == 200, "the server still answers")
        #expect(await Self.status(base + "/patroni") == 200)
    }

    static func status(_ url: String) async -> Int {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5)) else { return 0 }
        return Int(response.status.code)
    }

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// Writes `bytes` on a fresh connection and reads what comes back for up to a second.
    static func sendRaw(_ bytes: [UInt8], host: String, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        var wait = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while recv(fd, &buffer, buffer.count, 0) > 0 {}
    }
}

/// A cluster that stays as it is: requests are accepted and forgotten at once, so no handler
/// waits for a hand-over that never comes.
actor StillCluster: ClusterControl {
    var cluster: ClusterState

    nonisolated let loopWait = 1

    init(_ cluster: ClusterState) { self.cluster = cluster }

    func readCluster() async throws -> ClusterState { cluster }

    func setFailover(_ request: FailoverRequest, expectedVersion: Int64?) async throws -> Bool {
        cluster.failover = Versioned(FailoverRequest(), version: (cluster.failover?.version ?? 0) + 1)
        return true
    }

    func setConfig(_ value: JSONValue, expectedVersion: Int64?) async throws -> Bool {
        cluster.config = Versioned(value, version: (cluster.config?.version ?? 0) + 1)
        return true
    }

    func peerStatus(_ member: Member) async -> PeerStatus {
        PeerStatus(name: member.name, reachable: true, inRecovery: true, walPosition: 5000, timeline: 2)
    }

    func perform(_ operation: LocalOperation) async -> (status: Int, message: String) { (200, "done") }
}
