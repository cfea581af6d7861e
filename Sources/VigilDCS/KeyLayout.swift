/// Where a cluster's keys live: `/<namespace>/<scope>/…`, exactly as Patroni lays them out,
/// so `etcdctl get --prefix /db/postgres_cluster/` and patronictl see a Vigil cluster.
public struct KeyLayout: Sendable, Equatable {
    /// `/db/postgres_cluster` (no trailing slash).
    public let base: String

    public init(namespace: String, scope: String) {
        var path = "/" + namespace + "/" + scope
        while path.contains("//") { path = path.replacingOccurrences(of: "//", with: "/") }
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        base = path
    }

    /// Everything under the cluster: `/db/postgres_cluster/`.
    public var prefix: String { base + "/" }

    public func key(_ relative: String) -> String { prefix + relative }

    public var leader: String { key("leader") }
    public var initialize: String { key("initialize") }
    public var config: String { key("config") }
    public var status: String { key("status") }
    public var history: String { key("history") }
    public var failover: String { key("failover") }
    public var sync: String { key("sync") }
    public var failsafe: String { key("failsafe") }
    /// Written only for Patroni older than 2.1.0; read for the same reason.
    public var legacyOptime: String { key("optime/leader") }
    public var membersPrefix: String { key("members/") }

    public func member(_ name: String) -> String { membersPrefix + name }

    /// The part after the prefix, or nil for a key outside this cluster.
    public func relative(_ key: String) -> String? {
        key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
    }
}

import Foundation
