import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Testing
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The harness starts real servers that a test can talk to, cleans up after them, and
/// fails loudly when a binary is missing.
@Suite struct HarnessTests {
    @Test func etcdStartsAndStoresAKeyThroughTheV3Gateway() async throws {
        try await TestEtcd.with { etcd in
            let key = Data("/vigil-test/key".utf8).base64EncodedString()
            let value = Data("hello".utf8).base64EncodedString()
            _ = try await post(etcd.clientURL + "/v3/kv/put", #"{"key":"\#(key)","value":"\#(value)"}"#)
            let range = try await post(etcd.clientURL + "/v3/kv/range", #"{"key":"\#(key)"}"#)
            let json = try JSONSerialization.jsonObject(with: Data(range.utf8)) as? [String: Any]
            let kvs = json?["kvs"] as? [[String: Any]]
            #expect(kvs?.first?["value"] as? String == value)

            // etcdctl, the operator's tool, sees the same key.
            let etcdctl = try await CommandRun.run(try TestTools.executable("etcdctl"),
                                                   ["--endpoints=\(etcd.endpoint)", "get", "/vigil-test/key"],
                                                   environment: ["ETCDCTL_API": "3"])
            #expect(etcdctl.stdoutLines == ["/vigil-test/key", "hello"])
        }
    }

    @Test func postgres18StartsAndAnswersAsTheSuperuser() async throws {
        try await TestPostgres.with { pg in
            let logger = Logger(label: "test")
            let connection = try await PostgresConnection.connect(
                configuration: .init(host: pg.host, port: pg.port, username: pg.superuser, password: pg.password,
                                     database: "postgres", tls: .disable),
                id: 1, logger: logger)
            defer { Task { try? await connection.close() } }
            let rows = try await connection.query("SELECT current_setting('server_version_num')::int, current_setting('data_checksums')", logger: logger)
            var seen: [(Int, String)] = []
            for try await (version, checksums) in rows.decode((Int, String).self) { seen.append((version, checksums)) }
            #expect(seen.count == 1)
            #expect(seen.first.map { $0.0 / 10000 } == 18)
            #expect(seen.first?.1 == "on")
            // PostgreSQL refuses root: under root it runs as the unprivileged service user.
            if pg.user.switches {
                // By uid: Foundation's owner name comes from getpwuid's shared buffer, which a
                // test resolving another user at the same moment can overwrite (seen: "haproxy").
                var info = stat()
                #expect(stat(pg.dataDirectory, &info) == 0)
                #expect(info.st_uid == pg.user.uid, "the data directory belongs to uid \(info.st_uid), not \(pg.user.name) (\(pg.user.uid))")
            }
        }
    }

    @Test func serversAreGoneAfterTheTest() async throws {
        var pid: pid_t = 0
        var dir = ""
        try await TestPostgres.with { pg in
            pid = pg.process.pid
            dir = pg.directory.path
        }
        #expect(kill(pid, 0) != 0, "postgres \(pid) still running")
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test func aFailingTestBodyStillStopsTheServer() async throws {
        struct Boom: Error {}
        var pid: pid_t = 0
        await #expect(throws: Boom.self) {
            try await TestEtcd.with { etcd in
                pid = etcd.process?.pid ?? 0
                throw Boom()
            }
        }
        #expect(pid != 0 && kill(pid, 0) != 0)
    }

    @Test func aMissingBinaryFailsWithAClearMessage() async throws {
        let error = await #expect(throws: HarnessError.self) {
            _ = try await TestEtcd.start(binary: "/nonexistent/etcd")
        }
        #expect(error?.description.contains("make test") == true)
        #expect(error?.description.contains("/nonexistent/etcd") == true)
    }

    @Test func parallelServersGetDistinctAddresses() async throws {
        async let a = TestEtcd.start()
        async let b = TestEtcd.start()
        let (first, second) = try await (a, b)
        #expect(first.endpoint != second.endpoint)
        await first.stop()
        await second.stop()
    }

    private func post(_ url: String, _ body: String) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        #expect(response.status == .ok)
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }
}
