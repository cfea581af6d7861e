import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Testing
import VigilSystem
import VigilTestSupport

/// The REST API over TLS (restapi.certfile, keyfile, cafile, verify_client: required), as an
/// HAProxy `check-ssl` or patronictl with client certificates would use it.
@Suite(.serialized) struct RestTLSTests {
    @Test func theAPIServesTLSAndRequiresClientCertificates() async throws {
        let host = LoopbackAddress.random()
        let certs = try TestDirectory.make("rest-tls")
        defer { certs.remove() }
        let tls = try await TestCertificates.make(in: certs, serverIP: host)
        // The agent runs as the service user: it must be able to read its key.
        let user = try ServiceUser.current()
        chmod(certs.path, 0o755)
        chmod(certs.sub("tls"), 0o755)
        for file in [tls.serverKeyFile, tls.clientKeyFile] { try user.own(file) }
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1", host: host, restapiLines: [
                "certfile: \(tls.serverCertFile)", "keyfile: \(tls.serverKeyFile)", "cafile: \(tls.caFile)",
                "verify_client: required",
            ], extraConfig: "ctl: {certfile: \(tls.clientCertFile), keyfile: \(tls.clientKeyFile), cacert: \(tls.caFile)}")
            try await node.start()
            try await cluster.require("node1 bootstraps and leads", within: .seconds(60)) {
                (try? await cluster.get("leader")) == "node1"
            }
            let base = "https://\(host):8008"

            // A client that trusts the CA and presents its certificate is served.
            var trusted = TLSConfiguration.makeClientConfiguration()
            trusted.trustRoots = .file(tls.caFile)
            trusted.certificateChain = try NIOSSLCertificate.fromPEMFile(tls.clientCertFile).map { .certificate($0) }
            trusted.privateKey = .privateKey(try NIOSSLPrivateKey(file: tls.clientKeyFile, format: .pem))
            // The key is taken a moment before the cycle that took it ends and the API says so.
            try await cluster.require("node1 serves /primary over TLS", within: .seconds(30)) {
                (try? await Self.get(base + "/primary", tls: trusted))??.status == 200
            }
            let served = try await Self.get(base + "/primary", tls: trusted)
            #expect(served?.status == 200, "GET /primary over TLS with a client certificate: \(String(describing: served))")
            #expect(served?.body.contains(#""role": "primary""#) == true || served?.body.contains(#""role":"primary""#) == true)

            // Without a client certificate the handshake is refused; plain HTTP gets no answer.
            var anonymous = TLSConfiguration.makeClientConfiguration()
            anonymous.trustRoots = .file(tls.caFile)
            #expect(try await Self.get(base + "/primary", tls: anonymous) == nil)
            #expect(try await Self.get("http://\(host):8008/primary", tls: nil)?.status != 200)

            // The member key advertises the https address, as Patroni's does.
            let member = try await cluster.get("members/node1") ?? ""
            #expect(member.contains(#""api_url":"https://\#(host):8008/patroni""#), "\(member)")

            // vigilctl reaches the member with ctl's certificate.
            let vigilctl = try CommandRun.product("vigilctl")
            let reload = try await CommandRun.run(vigilctl, ["-c", node.configPath, "reload", cluster.scope, "node1", "--force"])
            #expect(reload.exitCode == 0 && reload.stdout.contains("Reload request received for member node1"),
                    "\(reload.stdout)\n\(reload.stderr)")
            let version = try await CommandRun.run(vigilctl, ["-c", node.configPath, "version", cluster.scope, "node1"])
            #expect(version.stdout.contains("node1: Vigil ") && version.stdout.contains(" PostgreSQL 18."),
                    "\(version.stdout)\n\(version.stderr)")
        }

        // A certificate that cannot be read stops the agent with a message naming it.
        try await AgentCluster.with { cluster in
            let broken = try cluster.add("node9", restapiLines: ["certfile: /nonexistent/server.crt"])
            try await broken.start()
            let status = await broken.current?.waitForExit(timeout: .seconds(30))
            #expect(status?.isSuccess == false)
            #expect(broken.fullLog().contains("restapi.certfile /nonexistent/server.crt: cannot read a PEM certificate"),
                    "\(broken.fullLog())")
        }
    }

    /// A GET with its own client (TLS settings vary per call); nil when no HTTP answer came.
    static func get(_ url: String, tls: TLSConfiguration?) async throws -> (status: Int, body: String)? {
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(3))))
        defer { _ = client.shutdown() as EventLoopFuture<Void> }
        guard let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5)),
              let body = try? await response.body.collect(upTo: 1 << 20) else { return nil }
        return (Int(response.status.code), String(buffer: body))
    }
}
