import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import VigilConfig
import VigilCore
import VigilDCS
import VigilSystem

/// What every cluster command starts from, as patronictl does: the config file (`-c`, the
/// same patroni.yml the agents read), the store it names, and the REST credentials.
struct CtlContext: Sendable {
    /// The file as read (an empty configuration when there is none).
    var configuration: Configuration
    var scope: String
    var store: EtcdStore
    var restAuthorization: String?
    /// `-k`: do not verify the members' REST certificates.
    var insecure = false

    static let defaultConfigPath = (ProcessInfo.processInfo.environment["HOME"] ?? "~") + "/.config/patroni/patronictl.yaml"

    static func load(configFile: String?, dcsURL: String?, cluster: String?, insecure: Bool = false) throws -> CtlContext {
        let path = configFile ?? ProcessInfo.processInfo.environment["PATRONICTL_CONFIG_FILE"] ?? defaultConfigPath
        let configuration: Configuration
        if FileManager.default.fileExists(atPath: path) {
            do {
                configuration = try ConfigSource.load(path: path).configuration
            } catch {
                throw CtlError("\(error)")
            }
        } else if configFile != nil {
            throw CtlError("the configuration file \(path) does not exist")
        } else {
            configuration = Configuration.read(ConfigNode(.mapping([]))).0
        }
        guard let scope = cluster ?? configuration.scope else {
            throw CtlError("name the cluster: give its name, or a config file (-c) with `scope`")
        }
        var namespace = configuration.namespace
        var settings: EtcdConnectionSettings
        if let dcsURL {
            guard let parsed = DCSURL(dcsURL) else { throw CtlError("--dcs-url \(dcsURL) is not SCHEME://HOST:PORT[/NAMESPACE]") }
            settings = EtcdConnectionSettings(hosts: ["\(parsed.host):\(parsed.port)"])
            if let ns = parsed.namespace { namespace = ns }
        } else if let dcs = configuration.dcs {
            if case let .unsupported(kind) = dcs.kind { throw CtlError("the store `\(kind)` is not supported; Vigil works with etcd") }
            settings = EtcdConnectionSettings(hosts: dcs.hosts, url: dcs.url, proxy: dcs.proxy, protocol: dcs.protocol,
                                              useProxies: dcs.useProxies, username: dcs.username, password: dcs.password?.value,
                                              caFile: dcs.cacert, certFile: dcs.cert, keyFile: dcs.key)
        } else {
            settings = EtcdConnectionSettings(hosts: ["127.0.0.1:2379"])
        }
        let gateway: EtcdGateway
        do {
            gateway = try EtcdGateway(settings: settings)
        } catch {
            throw CtlError("\(settings): \(error)")
        }
        let store = EtcdStore(kv: gateway, layout: KeyLayout(namespace: namespace, scope: scope), memberName: nil,
                              ttl: 30, retryTimeout: 10)
        let auth = configuration.ctl.authentication ?? configuration.restAPI.authentication
        var authorization: String?
        if let user = auth?.username, let password = auth?.password?.value {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        return CtlContext(configuration: configuration, scope: scope, store: store, restAuthorization: authorization,
                          insecure: insecure)
    }

    func readCluster() async throws -> ClusterState {
        do {
            return try await store.readCluster()
        } catch {
            throw CtlError("cannot read the cluster from the store: \(error)")
        }
    }

    /// A REST call to a member (patronictl's `request_patroni`): status and body text.
    func request(_ method: HTTPMethod, _ member: Member, _ path: String, body: JSONValue? = nil,
                 timeout: Duration = .seconds(60)) async throws -> (status: Int, body: String) {
        let answer = try await exchange(method, member, path, body: body, timeout: timeout)
        return (answer.status, answer.body)
    }

    /// `request`, with the `Server` header of the answer (which agent served it).
    func exchange(_ method: HTTPMethod, _ member: Member, _ path: String, body: JSONValue? = nil,
                  timeout: Duration = .seconds(60)) async throws -> (status: Int, body: String, server: String?) {
        guard let api = member.record.apiURL, let base = URL(string: api),
              var components = URLComponents(url: base, resolvingAgainstBaseURL: false) else {
            throw CtlError("member \(member.name) publishes no REST API address")
        }
        components.path = path
        guard let url = components.url?.absoluteString else { throw CtlError("bad REST address \(api)") }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let restAuthorization { request.headers.add(name: "Authorization", value: restAuthorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.compactText))
        }
        // TLS settings are read now: commands that never call a member need no access to the
        // certificate files.
        let (tls, files) = try restTLS()
        let client = HTTPClients.client(.command, tls: tls, tlsKey: files)
        do {
            let response = try await client.execute(request, timeout: .seconds(timeout.components.seconds))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)),
                    response.headers.first(name: "Server"))
        } catch {
            throw CtlError("\(member.name) (\(url)): \(Self.describe(error, timeout: timeout))")
        }
    }

    /// TLS for the members' REST APIs: `ctl.*`, else `restapi.*` (patronictl's order), and `-k`
    /// or `ctl.insecure`; nil: plain HTTP or the default trust. `files` names the setup.
    func restTLS() throws -> (tls: TLSConfiguration?, files: String) {
        let ctl = configuration.ctl, rest = configuration.restAPI
        let fromCtl = ctl.certfile != nil
        let cafile = ctl.cacert ?? rest.cafile, certfile = ctl.certfile ?? rest.certfile
        let keyfile = fromCtl ? ctl.keyfile : rest.keyfile
        let insecure = self.insecure || ctl.insecure
        do {
            let tls = try TLSFiles.client(cafile: cafile, certfile: certfile, keyfile: keyfile,
                                          password: (fromCtl ? ctl.keyfilePassword : rest.keyfilePassword)?.value,
                                          insecure: insecure, section: fromCtl ? "ctl" : "restapi")
            return (tls, [cafile, certfile, keyfile, insecure ? "insecure" : nil].map { $0 ?? "" }.joined(separator: "\u{0}"))
        } catch {
            throw CtlError(error.description)
        }
    }

    /// A failed REST call in words, with what to check.
    static func describe(_ error: any Error, timeout: Duration) -> String {
        let text = HTTPClients.describe(error, timeout: timeout)
        if error is NIOSSLError { return text + "; check ctl.cacert, or -k" }
        if text == "connection refused" { return "connection refused: is the agent running?" }
        return text
    }
}

/// `--dcs-url etcd3://host:port/namespace`.
struct DCSURL {
    var host: String
    var port: Int
    var namespace: String?

    init?(_ text: String) {
        var rest = Substring(text)
        if let scheme = text.range(of: "://") { rest = text[scheme.upperBound...] }
        var namespace: String?
        if let slash = rest.firstIndex(of: "/") {
            let ns = String(rest[slash...])
            namespace = ns.hasSuffix("/") ? ns : ns + "/"
            rest = rest[..<slash]
        }
        let parts = rest.split(separator: ":")
        host = parts.first.map(String.init) ?? "localhost"
        port = parts.count > 1 ? Int(parts[1]) ?? 2379 : 2379
        self.namespace = namespace
    }
}

struct CtlError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
