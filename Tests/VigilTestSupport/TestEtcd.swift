import AsyncHTTPClient
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A real single-member etcd on its own loopback address, for one test.
public final class TestEtcd: Sendable {
    public let host: String
    public let clientPort: Int
    public let peerPort: Int
    public let process: ChildProcess
    public let directory: TestDirectory

    /// `http://host:port`, the address clients use.
    public var clientURL: String { "http://\(host):\(clientPort)" }
    /// `host:port`, as a patroni.yml `hosts:` entry.
    public var endpoint: String { "\(host):\(clientPort)" }

    private init(host: String, clientPort: Int, peerPort: Int, process: ChildProcess, directory: TestDirectory) {
        self.host = host
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.process = process
        self.directory = directory
    }

    /// Starts etcd and waits until `/health` says it is healthy (at most `readyTimeout`).
    public static func start(binary: String = "etcd", readyTimeout: Duration = .seconds(30)) async throws -> TestEtcd {
        let etcd = try TestTools.executable(binary)
        let (host, clientPort) = try LoopbackAddress.freeEndpoint()
        var peerPort = clientPort + 1
        while !LoopbackAddress.isFree(host: host, port: peerPort) { peerPort += 1 }
        let directory = try TestDirectory.make("etcd")
        let name = "test"
        let process = try await ChildProcess.spawn(etcd, [
            "--name", name,
            "--data-dir", directory.sub("data"),
            "--listen-client-urls", "http://\(host):\(clientPort)",
            "--advertise-client-urls", "http://\(host):\(clientPort)",
            "--listen-peer-urls", "http://\(host):\(peerPort)",
            "--initial-advertise-peer-urls", "http://\(host):\(peerPort)",
            "--initial-cluster", "\(name)=http://\(host):\(peerPort)",
            "--logger", "zap", "--log-outputs", "stderr",
        ], logPath: directory.sub("etcd.log"))
        let server = TestEtcd(host: host, clientPort: clientPort, peerPort: peerPort, process: process, directory: directory)
        do {
            try await server.waitUntilHealthy(timeout: readyTimeout)
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    func waitUntilHealthy(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if process.hasExited {
                throw HarnessError("etcd exited during startup:\n\(process.logTail())")
            }
            var request = HTTPClientRequest(url: clientURL + "/health")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)),
               response.status == .ok,
               let body = try? await response.body.collect(upTo: 4096),
               String(buffer: body).contains("\"health\":\"true\"") {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("etcd at \(clientURL) not healthy after \(timeout):\n\(process.logTail())")
    }

    public func stop() async {
        await process.stop(signal: SIGTERM, grace: .seconds(10))
        directory.remove()
    }

    /// Runs `body` with a fresh etcd, and stops it afterwards whether `body` succeeded or threw.
    public static func with<T>(_ body: (TestEtcd) async throws -> T) async throws -> T {
        let etcd = try await start()
        do {
            let result = try await body(etcd)
            await etcd.stop()
            return result
        } catch {
            await etcd.stop()
            throw error
        }
    }
}
