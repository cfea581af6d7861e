import Foundation
import NIOSSL
import VigilAPI
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres
import VigilSystem

/// Everything the agent derives from its configuration file once, at start (and again on
/// SIGHUP): who it is, where it listens, how to reach the store and PostgreSQL.
public struct AgentSetup: Sendable {
    public var configuration: Configuration
    public var identity: MemberIdentity
    public var instance: InstanceSettings
    public var store: EtcdConnectionSettings
    public var layout: KeyLayout
    public var restListen: HostPort
    public var restConnect: HostPort
    /// The tags as published in the member key: only those that are set (as Patroni 4 does).
    public var tags: JSONValue
    public var noloadbalance: Bool
    /// The REST API's TLS (restapi.certfile…); nil serves plain HTTP.
    public var restTLS: TLSConfiguration?
    /// How this agent reaches its peers' REST APIs over TLS (trusting restapi.cafile).
    public var peerTLS: TLSConfiguration?

    public init(_ configuration: Configuration) throws(AgentError) {
        self.configuration = configuration
        guard let name = configuration.name, let scope = configuration.scope else {
            throw AgentError("the configuration needs `name` and `scope`")
        }
        guard let dcs = configuration.dcs else {
            throw AgentError("the configuration has no etcd3 section: Vigil needs etcd to coordinate the cluster")
        }
        if case let .unsupported(kind) = dcs.kind {
            throw AgentError("the store `\(kind)` is not supported; Vigil works with etcd (an etcd3: section)")
        }
        guard let listenText = configuration.restAPI.listen, let listen = HostPort(listenText) else {
            throw AgentError("restapi.listen must be HOST:PORT (it is \(configuration.restAPI.listen ?? "missing"))")
        }
        // A certificate that cannot be read stops the agent: serving a TLS-configured API over
        // plain HTTP would hand its password to the network.
        do {
            let rest = configuration.restAPI
            restTLS = try Self.serverTLS(rest)
            // Peers are asked the way this node is asked: trusting restapi.cafile, presenting
            // this node's certificate (a peer may require client certificates).
            peerTLS = try TLSFiles.client(cafile: rest.cafile, certfile: rest.certfile, keyfile: rest.keyfile,
                                          password: rest.keyfilePassword?.value, insecure: false, section: "restapi")
        } catch {
            throw AgentError("\(error)")
        }
        let connect = configuration.restAPI.connectAddress.flatMap(HostPort.init) ?? listen
        let tags = configuration.tags
        identity = MemberIdentity(name: name, nofailover: tags.nofailover,
                                  failoverPriority: Int64(tags.failoverPriority ?? (tags.nofailover ? 0 : 1)),
                                  canBootstrap: configuration.hasBootstrapSection,
                                  allowsSync: SyncTags(Self.publishedTags(tags)).allowsSync)
        do {
            instance = try InstanceSettings.resolve(configuration)
        } catch {
            throw AgentError(error.description)
        }
        store = EtcdConnectionSettings(dcs)
        layout = KeyLayout(namespace: configuration.namespace, scope: scope)
        restListen = listen
        restConnect = connect
        self.tags = Self.publishedTags(tags)
        noloadbalance = tags.noloadbalance
    }

    /// nil when `restapi.certfile` is not set (plain HTTP). Patroni reads the key from the
    /// certificate file when keyfile is not given.
    static func serverTLS(_ rest: RestAPIConfig) throws -> TLSConfiguration? {
        guard let certfile = rest.certfile else { return nil }
        let chain = try TLSFiles.certificates(certfile, setting: "restapi.certfile")
        let key = try TLSFiles.privateKey(rest.keyfile ?? certfile, password: rest.keyfilePassword?.value,
                                          setting: rest.keyfile == nil ? "restapi.certfile" : "restapi.keyfile")
        let roots = try rest.cafile.map { try TLSFiles.certificates($0, setting: "restapi.cafile") }
        return try RestTLS.server(certificateChain: chain, privateKey: key, trustRoots: roots,
                                  verifyClient: rest.verifyClient, ciphers: rest.ciphers)
    }

    static func publishedTags(_ t: Tags) -> JSONValue {
        var o: [(key: String, value: JSONValue)] = []
        if t.clonefrom { o.append(("clonefrom", true)) }
        if let p = t.failoverPriority { o.append(("failover_priority", .int(Int64(p)))) }
        if t.noloadbalance { o.append(("noloadbalance", true)) }
        // Patroni keeps nofailover: false beside a failover_priority.
        if t.nofailover || t.failoverPriority != nil { o.append(("nofailover", .bool(t.nofailover))) }
        if t.nosync { o.append(("nosync", true)) }
        if let p = t.syncPriority { o.append(("sync_priority", .int(Int64(p)))) }
        if let r = t.replicatefrom { o.append(("replicatefrom", .string(r))) }
        if t.nostream { o.append(("nostream", true)) }
        for (key, value) in t.custom.sorted(by: { $0.key < $1.key }) { o.append((key, .string(value))) }
        return .object(o)
    }

    public var apiURL: String {
        "\(restTLS == nil ? "http" : "https")://\(restConnect.authority)/patroni"
    }

    public var connURL: String { ConnectionURL.make(instance.connectAddress) }
}
