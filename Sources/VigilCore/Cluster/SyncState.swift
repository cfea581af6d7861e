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

    public init?(json: JSONValue) {
        guard json.objectValue != nil else { return nil }
        let standby = json["sync_standby"]?.stringValue ?? ""
        self.init(leader: json["leader"]?.stringValue, quorum: json["quorum"]?.intValue,
                  syncStandby: standby.split(separator: ",").map(String.init))
    }
}
