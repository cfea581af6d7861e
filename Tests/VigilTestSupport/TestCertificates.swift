import Foundation
import VigilSystem

/// A throwaway certificate authority with a server certificate for one loopback address (also
/// usable as a client certificate: etcd 3.4's JSON gateway dials its own gRPC port with it) and
/// a client certificate, made with openssl, for TLS tests.
public struct TestCertificates: Sendable {
    public let caFile: String
    public let serverCertFile: String
    public let serverKeyFile: String
    public let clientCertFile: String
    public let clientKeyFile: String

    public static func make(in directory: TestDirectory, serverIP: String) async throws -> TestCertificates {
        let openssl = try TestTools.executable("openssl")
        let dir = directory.sub("tls")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir + "/" + name }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try "subjectAltName=IP:\(serverIP)\nextendedKeyUsage=serverAuth,clientAuth\n".write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "2", "-subj", "/CN=vigil-test-ca"],
            ["req"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=etcd"],
            ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
             "-CAcreateserial", "-out", path("server.crt"), "-days", "2", "-extfile", path("server.ext")],
            ["req"] + ec + ["-keyout", path("client.key"), "-out", path("client.csr"), "-subj", "/CN=vigil"],
            ["x509", "-req", "-in", path("client.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
             "-CAcreateserial", "-out", path("client.crt"), "-days", "2", "-extfile", path("client.ext")],
        ]
        for step in steps {
            let run = try await CommandRun.run(openssl, step)
            guard run.exitCode == 0 else { throw HarnessError("openssl \(step[0]) failed: \(run.stderr)") }
        }
        return TestCertificates(caFile: path("ca.crt"), serverCertFile: path("server.crt"), serverKeyFile: path("server.key"),
                                clientCertFile: path("client.crt"), clientKeyFile: path("client.key"))
    }
}
