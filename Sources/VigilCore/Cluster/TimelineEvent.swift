/// One line of the `history` key: a timeline switch. Patroni writes each as a JSON array
/// `[timeline, lsn, "reason", "iso timestamp", "new leader"]`, the last two optional.
public struct TimelineEvent: Sendable, Equatable {
    /// The timeline that ended.
    public var timeline: Int64
    /// Where it ended (bytes from 0/0).
    public var lsn: Int64
    public var reason: String
    public var timestamp: String?
    public var newLeader: String?

    public init(timeline: Int64, lsn: Int64, reason: String, timestamp: String? = nil, newLeader: String? = nil) {
        self.timeline = timeline
        self.lsn = lsn
        self.reason = reason
        self.timestamp = timestamp
        self.newLeader = newLeader
    }

    public var jsonValue: JSONValue {
        var items: [JSONValue] = [.int(timeline), .int(lsn), .string(reason)]
        if let timestamp {
            items.append(.string(timestamp))
            if let newLeader { items.append(.string(newLeader)) }
        }
        return .array(items)
    }

    /// PostgreSQL's timeline IDs (TimeLineID is a uint32; 1 is the first).
    public static let timelines: ClosedRange<Int64> = 1...Int64(UInt32.max)

    /// nil for an entry that is not one: too short, a timeline PostgreSQL cannot have, or a
    /// negative position.
    public init?(json: JSONValue) {
        guard let items = json.arrayValue, items.count >= 3, let timeline = items[0].timelineID,
              let lsn = items[1].walPosition else { return nil }
        self.init(timeline: timeline, lsn: lsn, reason: items[2].stringValue ?? "",
                  timestamp: items.count > 3 ? items[3].stringValue : nil,
                  newLeader: items.count > 4 ? items[4].stringValue : nil)
    }
}
