/// The `failover` key: an operator's switchover (from `leader`) or failover (to `member`),
/// possibly scheduled. A cleared request is written as `{}`, not deleted.
public struct FailoverRequest: Sendable, Equatable {
    public var leader: String?
    public var member: String?
    /// ISO 8601 with offset, as written; nil for "now".
    public var scheduledAt: String?

    public init(leader: String? = nil, member: String? = nil, scheduledAt: String? = nil) {
        self.leader = leader
        self.member = member
        self.scheduledAt = scheduledAt
    }

    public var isEmpty: Bool { leader == nil && member == nil }

    public var jsonValue: JSONValue {
        var o: [(key: String, value: JSONValue)] = []
        if let leader { o.append(("leader", .string(leader))) }
        if let member { o.append(("member", .string(member))) }
        if let scheduledAt { o.append(("scheduled_at", .string(scheduledAt))) }
        return .object(o)
    }

    /// Reads the JSON form, or Patroni's legacy `leader:candidate` text.
    public init?(text: String) {
        if let json = try? JSONValue.parse(text) {
            guard json.objectValue != nil else { return nil }
            self.init(leader: json["leader"]?.stringValue, member: json["member"]?.stringValue,
                      scheduledAt: json["scheduled_at"]?.stringValue)
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return nil }
        self.init(leader: parts[0].isEmpty ? nil : parts[0], member: parts[1].isEmpty ? nil : parts[1])
    }
}
