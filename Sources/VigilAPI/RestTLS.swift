import NIOCore
import NIOSSL
import VigilConfig

/// TLS for the REST API from Patroni's settings: the server side from `restapi.certfile`,
/// `keyfile`, `keyfile_password`, `cafile` and `verify_client`; the client side (an agent
/// asking its peers, `vigilctl` asking the members) from `ctl.*`, falling back to `restapi.*`
/// as patronictl does.
public enum RestTLS {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// nil when `restapi.certfile` is not set (plain HTTP).
    public static func server(_ rest: RestAPIConfig) throws(Failure) -> TLSConfiguration? {
        guard let certfile = rest.certfile else { return nil }
        let chain = try certificates(certfile, setting: "restapi.certfile")
        // Patroni reads the key from the certificate file when keyfile is not given.
        let key = try privateKey(rest.keyfile ?? certfile, password: rest.keyfilePassword,
                                 setting: rest.keyfile == nil ? "restapi.certfile" : "restapi.keyfile")
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let cafile = rest.cafile {
            _ = try certificates(cafile, setting: "restapi.cafile")
            tls.trustRoots = .file(cafile)
        }
        switch rest.verifyClient ?? "none" {
        case "none": tls.certificateVerification = .none
        case "optional": tls.certificateVerification = .optionalVerification
        case "required": tls.certificateVerification = .noHostnameVerification
        case let other:
            throw Failure(description: "restapi.verify_client must be none, optional or required (it is \(other))")
        }
        if let ciphers = rest.ciphers { tls.cipherSuites = ciphers }
        do {
            // Proves now that the key belongs to the certificate and the ciphers are known.
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw Failure(description: "restapi: the certificate, key or ciphers cannot be used together (\(reason(error)))")
        }
        return tls
    }

    /// What an agent uses to reach its peers' REST APIs: trusts `restapi.cafile` and presents
    /// its own certificate (a peer may require client certificates). nil: the default.
    public static func agentClient(_ rest: RestAPIConfig) throws(Failure) -> TLSConfiguration? {
        try client(cafile: rest.cafile, certfile: rest.certfile, keyfile: rest.keyfile, password: rest.keyfilePassword,
                   insecure: false, section: "restapi")
    }

    /// What `vigilctl` uses: `ctl.*`, else `restapi.*` (patronictl's order).
    public static func ctlClient(_ ctl: CtlConfig, _ rest: RestAPIConfig) throws(Failure) -> TLSConfiguration? {
        let fromCtl = ctl.certfile != nil
        return try client(cafile: ctl.cacert ?? rest.cafile, certfile: ctl.certfile ?? rest.certfile,
                          keyfile: fromCtl ? ctl.keyfile : rest.keyfile,
                          password: fromCtl ? ctl.keyfilePassword : rest.keyfilePassword,
                          insecure: ctl.insecure, section: fromCtl ? "ctl" : "restapi")
    }

    static func client(cafile: String?, certfile: String?, keyfile: String?, password: Secret?, insecure: Bool,
                       section: String) throws(Failure) -> TLSConfiguration? {
        guard cafile != nil || certfile != nil || insecure else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let cafile {
            _ = try certificates(cafile, setting: section == "ctl" ? "ctl.cacert" : "restapi.cafile")
            tls.trustRoots = .file(cafile)
        }
        if let certfile {
            tls.certificateChain = try certificates(certfile, setting: "\(section).certfile").map { .certificate($0) }
            tls.privateKey = .privateKey(try privateKey(keyfile ?? certfile, password: password,
                                                        setting: keyfile == nil ? "\(section).certfile" : "\(section).keyfile"))
        }
        if insecure { tls.certificateVerification = .none }
        return tls
    }

    static func certificates(_ path: String, setting: String) throws(Failure) -> [NIOSSLCertificate] {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(path)
            guard !chain.isEmpty else { throw Failure(description: "no certificate in it") }
            return chain
        } catch {
            throw Failure(description: "\(setting) \(path): cannot read a PEM certificate (\(reason(error)))")
        }
    }

    static func privateKey(_ path: String, password: Secret?, setting: String) throws(Failure) -> NIOSSLPrivateKey {
        do {
            if let password {
                return try NIOSSLPrivateKey(file: path, format: .pem) { (setter: ([UInt8]) -> Void) in setter(Array(password.value.utf8)) }
            }
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            let hint = password == nil ? "" : " (or keyfile_password does not open it)"
            throw Failure(description: "\(setting) \(path): cannot read a PEM private key\(hint) (\(reason(error)))")
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let failure = error as? Failure { return failure.description }
        if let io = error as? IOError { return io.description }
        return "\(error)"
    }
}
