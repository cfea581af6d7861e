import AsyncHTTPClient
import Foundation
import VigilPostgres
import NIOCore
import Synchronization
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real etcd for one test: a single member, or one member of a `TestEtcdCluster`. It can
/// be killed and started again on the same address and data, to test what survives a restart.
public final class TestEtcd: Sendable {
    public let name: String
    public let host: String
    public let clientPort: Int
    public let peerPort: Int
    public let directory: TestDirectory
    private let binary: String
    private let initialCluster: String
    private let extraArguments: [String]
    private let running: Mutex<ChildProcess?>
    /// Set when the client port speaks TLS and wants client certificates.
    public let certificates: TestCertificates?

    /// `http://host:port` (https with TLS), the address clients use.
    public var clientURL: String { "\(certificates == nil ? "http" : "https")://\(host):\(clientPort)" }
    /// `host:port`, as a patroni.yml `hosts:` entry.
    public var endpoint: String { "\(host):\(clientPort)" }
    public var peerURL: String { "http://\(host):\(peerPort)" }
    public var process: ChildProcess? { running.withLock { $0 } }

    init(name: String, host: String, clientPort: Int, peerPort: Int, binary: String, initialCluster: String?,
         extraArguments: [String], directory: TestDirectory? = nil, certificates: TestCertificates? = nil) throws {
        self.name = name
        self.host = host
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.binary = binary
        self.initialCluster = initialCluster ?? "\(name)=http://\(host):\(peerPort)"
        self.directory = try directory ?? TestDirectory.make("etcd")
        self.certificates = certificates
        var arguments = extraArguments
        if let certificates {
            arguments += ["--cert-file", certificates.serverCertFile, "--key-file", certificates.serverKeyFile,
                          "--trusted-ca-file", certificates.caFile, "--client-cert-auth"]
        }
        self.extraArguments = arguments
        running = Mutex(nil)
    }

    /// A free address with a client port and a peer port.
    static func freeAddress() throws -> (host: String, clientPort: Int, peerPort: Int) {
        let (host, clientPort) = try LoopbackAddress.freeEndpoint()
        var peerPort = clientPort + 1
        while !LoopbackAddress.isFree(host: host, port: peerPort) { peerPort += 1 }
        return (host, clientPort, peerPort)
    }

    /// Starts a single-member etcd and waits until `/health` says it is healthy.
    /// With `tls`, clients must use https and present a certificate signed by `certificates.caFile`.
    public static func start(binary: String = "etcd", extraArguments: [String] = [], tls: Bool = false,
                             readyTimeout: Duration = .seconds(30)) async throws -> TestEtcd {
        let address = try freeAddress()
        let path = try TestTools.executable(binary)
        let directory = try TestDirectory.make("etcd")
        let certificates = tls ? try await TestCertificates.make(in: directory, serverIP: address.host) : nil
        let etcd = try TestEtcd(name: "test", host: address.host, clientPort: address.clientPort,
                                peerPort: address.peerPort, binary: path, initialCluster: nil,
                                extraArguments: extraArguments, directory: directory, certificates: certificates)
        do {
            try await etcd.launch()
            try await etcd.waitUntilHealthy(timeout: readyTimeout)
        } catch {
            await etcd.stop()
            throw error
        }
        return etcd
    }

    /// Spawns the etcd process (again, after `kill()`), keeping data and addresses.
    func launch() async throws {
        let process = try await ChildProcess.spawn(binary, [
            "--name", name,
            "--data-dir", directory.sub("data"),
            "--listen-client-urls", clientURL,
            "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL,
            "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr",
        ] + extraArguments, logPath: directory.sub("etcd.log"))
        running.withLock { $0 = process }
    }

    public func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let process, !process.isRunning {
                throw HarnessError("etcd \(name) exited during startup:\n\(process.logTail())")
            }
            if try await isHealthy() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("etcd at \(clientURL) not healthy after \(timeout):\n\(process?.logTail() ?? "")")
    }

    func isHealthy() async throws -> Bool {
        if let certificates {
            let run = try await CommandRun.run(try TestTools.executable("etcdctl"), [
                "--endpoints=\(clientURL)", "--cacert=\(certificates.caFile)", "--cert=\(certificates.clientCertFile)",
                "--key=\(certificates.clientKeyFile)", "--command-timeout=1s", "endpoint", "health",
            ], environment: ["ETCDCTL_API": "3"])
            return run.exitCode == 0
        }
        var request = HTTPClientRequest(url: clientURL + "/health")
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)), response.status == .ok,
              let body = try? await response.body.collect(upTo: 4096) else { return false }
        return String(buffer: body).contains("\"health\":\"true\"")
    }

    /// kill -9: the member vanishes at once, as in a crash.
    public func kill() async {
        await process?.stop(signal: SIGKILL, grace: .seconds(5))
    }

    /// Starts a killed member again on the same address and data, and waits until healthy.
    public func restart() async throws {
        await kill()
        try await launch()
        try await waitUntilHealthy()
    }

    public func stop() async {
        await process?.stop(signal: SIGTERM, grace: .seconds(10))
        directory.remove()
    }

    /// Runs `body` with a fresh etcd, and stops it afterwards whether `body` succeeded or threw.
    public static func with<T>(extraArguments: [String] = [], tls: Bool = false,
                               _ body: (TestEtcd) async throws -> T) async throws -> T {
        try await withStarted({ try await start(extraArguments: extraArguments, tls: tls) }, stop: { await $0.stop() }, body)
    }
}

/// A real etcd cluster of several members, each on its own loopback address.
public final class TestEtcdCluster: Sendable {
    public let members: [TestEtcd]

    public var endpoints: [String] { members.map(\.endpoint) }

    public static func start(size: Int = 3, binary: String = "etcd") async throws -> TestEtcdCluster {
        let path = try TestTools.executable(binary)
        let addresses = try (0..<size).map { _ in try TestEtcd.freeAddress() }
        let initial = addresses.enumerated().map { "m\($0.offset)=http://\($0.element.host):\($0.element.peerPort)" }
            .joined(separator: ",")
        let members = try addresses.enumerated().map { i, address in
            try TestEtcd(name: "m\(i)", host: address.host, clientPort: address.clientPort, peerPort: address.peerPort,
                         binary: path, initialCluster: initial, extraArguments: [])
        }
        let cluster = TestEtcdCluster(members: members)
        do {
            for member in members { try await member.launch() }
            for member in members { try await member.waitUntilHealthy(timeout: .seconds(60)) }
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    init(members: [TestEtcd]) {
        self.members = members
    }

    public func stop() async {
        for member in members { await member.stop() }
    }

    public static func with<T>(size: Int = 3, _ body: (TestEtcdCluster) async throws -> T) async throws -> T {
        try await withStarted({ try await start(size: size) }, stop: { await $0.stop() }, body)
    }
}
