import NIOCore
import NIOSSL

/// The REST server's TLS from Patroni's `restapi` settings: the certificate and key (read by
/// the caller), the CA that client certificates must chain to, `verify_client` and `ciphers`.
public enum RestTLS {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func server(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey,
                              trustRoots: [NIOSSLCertificate]?, verifyClient: String?,
                              ciphers: String?) throws(Failure) -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: certificateChain.map { .certificate($0) },
                                                           privateKey: .privateKey(privateKey))
        if let trustRoots { tls.trustRoots = .certificates(trustRoots) }
        switch verifyClient ?? "none" {
        case "none": tls.certificateVerification = .none
        case "optional": tls.certificateVerification = .optionalVerification
        case "required": tls.certificateVerification = .noHostnameVerification
        case let other:
            throw Failure(description: "restapi.verify_client must be none, optional or required (it is \(other))")
        }
        if let ciphers { tls.cipherSuites = ciphers }
        do {
            // Proves now that the key belongs to the certificate and the ciphers are known.
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw Failure(description: "restapi: the certificate, key or ciphers cannot be used together (\(error))")
        }
        return tls
    }
}
