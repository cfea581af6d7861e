import Foundation

/// The `sync` key: which members are synchronous standbys of which leader.
public struct SyncState: Sendable, Equatable {
    public var leader: String?
    public var quorum: Int64?
    public var syncStandby: [String]

    public init(leader: String?, quorum: Int64? = nil, syncStandby: [String]) {
        self.leader = leader
        self.quorum = quorum
        self.syncStandby = syncStandby
    }

    public var jsonValue: JSONValue {
        let names = syncStandby.sorted()
        return [
            "leader": leader.map(JSONValue.string) ?? .null,
            "quorum": .int(quorum ?? 0),
            "sync_standby": names.isEmpty ? .null : .string(names.joined(separator: ",")),
        ]
    }

    /// As Patroni reads it: names trimmed and empty ones dropped; `quorum` only with a leader,
    /// and only a count a cluster can have.
    public init?(json: JSONValue) {
        guard json.objectValue != nil else { return nil }
        let standby = json["sync_standby"]?.stringValue ?? ""
        let leader = json["leader"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let quorum = leader == nil ? nil : json["quorum"]?.intValue.flatMap { (0...10_000).contains($0) ? $0 : nil }
        self.init(leader: leader, quorum: quorum,
                  syncStandby: standby.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}
