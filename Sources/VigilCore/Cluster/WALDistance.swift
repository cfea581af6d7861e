/// Bytes between two WAL positions. Positions come from outside (the store's `status` key, a
/// peer's `/patroni`), where any Int64 can be written: the distance saturates at Int64's
/// bounds instead of trapping, so a hostile value can make a member look lagging, never stop
/// the agent.
public enum WALDistance {
    /// How far `position` is behind `ahead` (negative when it is in front).
    public static func behind(_ ahead: Int64, _ position: Int64) -> Int64 {
        let (difference, overflow) = ahead.subtractingReportingOverflow(position)
        guard overflow else { return difference }
        return ahead > position ? .max : .min
    }
}

extension JSONValue {
    /// A WAL position as the store and the peers write it (bytes from 0/0, never negative);
    /// nil for anything else, so a hostile value reads as "unknown", not as a number to
    /// compute with.
    public var walPosition: Int64? { intValue.flatMap { $0 >= 0 ? $0 : nil } }

    /// A timeline ID PostgreSQL can have (see `TimelineEvent.timelines`); nil otherwise.
    public var timelineID: Int64? { intValue.flatMap { TimelineEvent.timelines.contains($0) ? $0 : nil } }
}
