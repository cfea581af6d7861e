import NIOCore
import NIOSSL

/// PEM files named in the configuration, read with one clear message per failure, and the
/// client TLS setups built from them: for etcd (`etcd3.cacert/cert/key`), for an agent asking
/// its peers' REST APIs and for `vigilctl` asking the members (`ctl.*`, else `restapi.*`).
public enum TLSFiles {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Parameter setting: the configuration key that names the file, for the message.
    public static func certificates(_ path: String, setting: String) throws(Failure) -> [NIOSSLCertificate] {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(path)
            guard !chain.isEmpty else { throw Failure(description: "no certificate in it") }
            return chain
        } catch {
            throw Failure(description: "\(setting) \(path): cannot read a PEM certificate (\(reason(error)))")
        }
    }

    public static func privateKey(_ path: String, password: String?, setting: String) throws(Failure) -> NIOSSLPrivateKey {
        do {
            if let password {
                return try NIOSSLPrivateKey(file: path, format: .pem) { (setter: ([UInt8]) -> Void) in setter(Array(password.utf8)) }
            }
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            let hint = password == nil ? "" : " (or its password does not open it)"
            throw Failure(description: "\(setting) \(path): cannot read a PEM private key\(hint) (\(reason(error)))")
        }
    }

    /// A client setup that trusts `cafile` and presents `certfile` (with `keyfile`, or the key
    /// inside `certfile`, as Patroni reads it); `insecure` skips verifying the server. nil when
    /// nothing is set: the default trust.
    /// - Parameter section: where the settings come from (`ctl`, `restapi`, `etcd3`), for messages.
    public static func client(cafile: String?, certfile: String?, keyfile: String?, password: String?, insecure: Bool,
                              section: String, cafileKey: String = "cafile", certfileKey: String = "certfile",
                              keyfileKey: String = "keyfile") throws(Failure) -> TLSConfiguration? {
        guard cafile != nil || certfile != nil || insecure else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let cafile { tls.trustRoots = .certificates(try certificates(cafile, setting: "\(section).\(cafileKey)")) }
        if let certfile {
            tls.certificateChain = try certificates(certfile, setting: "\(section).\(certfileKey)").map { .certificate($0) }
            tls.privateKey = .privateKey(try privateKey(keyfile ?? certfile, password: password,
                                                        setting: "\(section).\(keyfile == nil ? certfileKey : keyfileKey)"))
        }
        if insecure { tls.certificateVerification = .none }
        do {
            // Proves now that the key belongs to the certificate, not at the first handshake.
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw Failure(description: "\(section): the certificate and key cannot be used together (\(reason(error)))")
        }
        return tls
    }

    public static func reason(_ error: any Error) -> String {
        if let failure = error as? Failure { return failure.description }
        if let io = error as? IOError { return io.description }
        return "\(error)"
    }
}
