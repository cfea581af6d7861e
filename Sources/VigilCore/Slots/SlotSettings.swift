/// How the cluster's replication slots are kept, as Patroni 4 keeps them: `postgresql.use_slots`,
/// `member_slots_ttl`, and the permanent `slots` and `ignore_slots` of the cluster's configuration.
public struct SlotSettings: Sendable, Equatable {
    /// Whether members stream through slots at all (`postgresql.use_slots`).
    public var useSlots: Bool
    /// How long the leader keeps the slot of a member whose key is gone, so a member that comes
    /// back finds its WAL (Patroni's default: 30 minutes). 0: a member's slot goes with its key,
    /// and replicas keep no copies of the other members' slots.
    public var memberSlotsTTL: Duration
    /// Slots kept on the primary and, where they can be advanced, on every member that may
    /// become primary, so a consumer (a backup server's WAL stream) finds its slot after a
    /// failover.
    public var permanent: [PermanentSlot]
    /// Slots nobody in the cluster manages: never dropped, whatever their name.
    public var ignore: [SlotMatcher]

    /// Patroni's default retention of a departed member's slot.
    public static let defaultMemberSlotsTTL = Duration.seconds(1800)

    public init(useSlots: Bool = true, memberSlotsTTL: Duration = defaultMemberSlotsTTL,
                permanent: [PermanentSlot] = [], ignore: [SlotMatcher] = []) {
        self.useSlots = useSlots
        self.memberSlotsTTL = memberSlotsTTL
        self.permanent = permanent
        self.ignore = ignore
    }

    /// No slot managed, none dropped: what a node without the cluster's configuration does.
    public static let unmanaged = SlotSettings(useSlots: false, memberSlotsTTL: .zero)

    /// Whether `slot` is one of `ignore_slots`.
    public func ignores(_ slot: ReplicationSlot) -> Bool { ignore.contains { $0.matches(slot) } }
}

/// One entry of the `slots` setting.
public struct PermanentSlot: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case physical
        /// Logical decoding in `database` with `plugin`.
        case logical(database: String, plugin: String)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind = .physical) {
        self.name = name
        self.kind = kind
    }

    /// PostgreSQL's rule for a slot name, which Patroni also applies to permanent slots.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// One entry of `ignore_slots`: each attribute given must be equal, an attribute left out
/// matches anything (Patroni's rule: a physical slot has no database or plugin, so an entry
/// that names one never matches a physical slot).
public struct SlotMatcher: Sendable, Equatable {
    public var name: String?
    public var type: String?
    public var database: String?
    public var plugin: String?

    public init(name: String? = nil, type: String? = nil, database: String? = nil, plugin: String? = nil) {
        self.name = name
        self.type = type
        self.database = database
        self.plugin = plugin
    }

    public func matches(_ slot: ReplicationSlot) -> Bool {
        func same(_ wanted: String?, _ actual: String?) -> Bool { wanted.map { $0.isEmpty || $0 == actual } ?? true }
        return same(name, slot.name) && same(type, slot.type) && same(database, slot.database) && same(plugin, slot.plugin)
    }
}
