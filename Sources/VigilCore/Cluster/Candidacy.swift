import Foundation

/// A member's failover tags as another member reads them (its member key's `tags`, or the
/// `tags` of its `GET /patroni`), decoded once, the way Patroni reads them (tags.py), so a
/// mixed cluster agrees on who may lead: `nofailover` set means its truthiness (any non-empty
/// string, a non-zero number, true); not set, it follows `failover_priority` ≤ 0. The priority
/// is 0 when nofailover is set, else the number given, 1 by default.
public struct FailoverTags: Sendable, Equatable {
    public var nofailover: Bool
    public var priority: Int64

    public init(nofailover: Bool = false, priority: Int64 = 1) {
        self.nofailover = nofailover
        self.priority = nofailover ? 0 : priority
    }

    public init(_ tags: JSONValue?) {
        let (nofailover, priority) = Self.pair(tags, flag: "nofailover", priority: "failover_priority")
        self.init(nofailover: nofailover, priority: priority)
    }

    /// A flag tag and its priority tag as Patroni's tags.py reads them (`_bool_tag`,
    /// `_priority_tag`): the flag set means its truthiness; not set, it follows priority ≤ 0.
    /// The priority is 0 with the flag, else the number given, 1 by default.
    static func pair(_ tags: JSONValue?, flag: String, priority key: String) -> (flag: Bool, priority: Int64) {
        let priority = tags?[key].flatMap(integer)
        let set = tags?[flag].map(truthy) ?? ((priority ?? 1) <= 0)
        return (set, set ? 0 : priority ?? 1)
    }

    /// Whether it may ever become primary on its own.
    public var allowsPromotion: Bool { !nofailover && priority > 0 }

    /// Python's truthiness of a JSON value.
    public static func truthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case let .bool(b): b
        case let .string(s): !s.isEmpty
        case let .int(i): i != 0
        case let .double(d): d != 0
        case let .array(a): !a.isEmpty
        case let .object(o): !o.isEmpty
        }
    }

    /// Patroni's parse_int: a number, or a string holding one.
    static func integer(_ value: JSONValue) -> Int64? {
        switch value {
        case let .int(i): i
        case let .double(d) where d.rounded() == d && abs(d) < 9e18: Int64(d)
        case let .string(s): Int64(s.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }
}

/// Who can take over as primary: the one rule for the engine (the race, a switchover, a
/// primary that hands over after a crash), the REST API's switchover pre-check and vigilctl.
public enum Candidacy {
    /// Why a member cannot take over.
    public enum Refusal: Sendable, Equatable {
        /// Its agent did not answer, or its PostgreSQL is not running.
        case unreachable
        /// nofailover, failover_priority ≤ 0, or a watchdog that failed.
        case notAllowed
        /// A request names another member.
        case notNamed
        /// It runs as a primary.
        case notAReplica
        /// It is further behind the last known primary position than maximum_lag_on_failover.
        case lagging(bytes: Int64)
    }

    /// What a check asks beyond being reachable and allowed (Patroni's failover_limitation):
    /// the named member only, a replica within the lag limit (is_failover_possible).
    public struct Conditions: Sendable, Equatable {
        public var named: String?
        /// The last known primary position and maximum_lag_on_failover; nil: lag not checked.
        public var lag: (optime: Int64, maximum: Int64)?
        public var replicaOnly: Bool

        public init(named: String? = nil, lag: (optime: Int64, maximum: Int64)? = nil, replicaOnly: Bool = false) {
            self.named = named
            self.lag = lag
            self.replicaOnly = replicaOnly
        }

        /// Reachable and allowed to promote: nothing more.
        public static let eligible = Conditions()

        public static func == (a: Conditions, b: Conditions) -> Bool {
            a.named == b.named && a.replicaOnly == b.replicaOnly && a.lag?.optime == b.lag?.optime && a.lag?.maximum == b.lag?.maximum
        }
    }

    /// nil: `peer` can take over under `conditions`.
    public static func refusal(_ peer: PeerStatus, _ conditions: Conditions = .eligible) -> Refusal? {
        guard peer.reachable else { return .unreachable }
        guard !peer.nofailover, peer.failoverPriority > 0 else { return .notAllowed }
        if let named = conditions.named, peer.name != named { return .notNamed }
        if conditions.replicaOnly, !peer.inRecovery { return .notAReplica }
        if let lag = conditions.lag {
            let behind = WALDistance.behind(lag.optime, peer.walPosition)
            if behind > lag.maximum { return .lagging(bytes: behind) }
        }
        return nil
    }

    /// The members of `peers` that can take over under `conditions`.
    public static func able(_ peers: [PeerStatus], _ conditions: Conditions = .eligible) -> [PeerStatus] {
        peers.filter { refusal($0, conditions) == nil }
    }
}
