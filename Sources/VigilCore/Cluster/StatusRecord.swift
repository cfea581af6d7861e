/// The `status` key the leader writes: its last WAL position and the slots' positions.
public struct StatusRecord: Sendable, Equatable {
    public var optime: Int64?
    public var slots: [(name: String, lsn: Int64)]
    public var retainSlots: [String]

    public init(optime: Int64? = nil, slots: [(name: String, lsn: Int64)] = [], retainSlots: [String] = []) {
        self.optime = optime
        self.slots = slots
        self.retainSlots = retainSlots
    }

    public static func == (lhs: StatusRecord, rhs: StatusRecord) -> Bool { lhs.jsonValue == rhs.jsonValue }

    public var jsonValue: JSONValue {
        var o: [(key: String, value: JSONValue)] = []
        if let optime { o.append(("optime", .int(optime))) }
        if !slots.isEmpty { o.append(("slots", .object(slots.map { ($0.name, .int($0.lsn)) }))) }
        if !retainSlots.isEmpty { o.append(("retain_slots", .array(retainSlots.map(JSONValue.string)))) }
        return .object(o)
    }

    /// Reads the JSON form, or a bare integer (legacy).
    public init?(json: JSONValue) {
        if json.intValue != nil {
            guard let optime = json.walPosition else { return nil }
            self.init(optime: optime)
            return
        }
        guard json.objectValue != nil else { return nil }
        // Positions are read only as PostgreSQL can have them (never negative).
        let slots = (json["slots"]?.objectValue ?? []).compactMap { entry in entry.value.walPosition.map { (entry.key, $0) } }
        self.init(optime: json["optime"]?.walPosition, slots: slots,
                  retainSlots: (json["retain_slots"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}
