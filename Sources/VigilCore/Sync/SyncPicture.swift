/// What a primary sees of its standbys for synchronous replication (Patroni's `_SyncState`,
/// from `SyncHandler.current_state`): the standbys `synchronous_standby_names` lists, those it
/// would pick now, and those confirmed synchronous (they have every commit acknowledged since
/// they were listed).
public struct SyncPicture: Sendable, Equatable {
    public var kind: SyncStandbyNames.Parsed.Kind
    /// How many standbys `synchronous_standby_names` makes a commit wait for.
    public var numsync: Int
    /// The names it lists, lowercased (none when it lists `*`).
    public var sync: Set<String>
    /// The same names as written.
    public var syncNames: [String]
    /// Listed, streaming, and caught up with the primary as of the moment they were listed.
    public var confirmed: [String]
    /// The standbys that would be picked now, best first.
    public var active: [String]

    public init(kind: SyncStandbyNames.Parsed.Kind, numsync: Int, syncNames: [String], confirmed: [String], active: [String]) {
        self.kind = kind
        self.numsync = numsync
        self.syncNames = syncNames
        sync = Set(syncNames.map { $0.lowercased() })
        self.confirmed = confirmed
        self.active = active
    }
}

/// What the primary remembers between cycles about `synchronous_standby_names` (Patroni's
/// SyncHandler): the value last seen, where the primary's WAL stood when it changed, and which
/// listed standbys have since been seen caught up with that point. A standby added to the list
/// was not waited for by the commits before it: it counts as synchronous only once it has them.
public struct SyncMemory: Sendable, Equatable {
    /// The value last seen (nil: not seen since this agent started or stopped leading).
    public internal(set) var names: String?
    public internal(set) var parsed = SyncStandbyNames.Parsed.off
    /// The primary's flushed WAL position when `names` was first seen.
    public internal(set) var flushAtChange: Int64 = 0
    /// Listed standbys (lowercased) seen caught up with `flushAtChange`.
    public internal(set) var ready: Set<String> = []
    /// When this member first managed synchronous replication as leader (quorum changes are
    /// held back for loop_wait after a promotion, so the replicas can reconnect first).
    public internal(set) var managingSince: Duration?

    public init() {}

    /// Takes in the value PostgreSQL runs with, and the primary's flushed WAL position now.
    mutating func saw(names value: String, flush: Int64) {
        guard value != names else { return }
        let before = parsed
        names = value
        parsed = SyncStandbyNames.parse(value) ?? .off
        // In quorum mode a standby still listed after others were dropped may lack commits only
        // the dropped ones confirmed (ANY n waits for any n): it confirms again against the
        // position of this change before a key can rely on it alone.
        let dropped = !before.members.isSubset(of: parsed.members)
        ready = parsed.kind == .quorum && dropped ? [] : ready.filter { parsed.members.contains($0) }
        flushAtChange = flush
    }

    /// The picture of the standbys now, marking those newly caught up as ready.
    mutating func picture(me: String, replication: [StandbyConnection], members: [Member], syncKey: SyncState?,
                          settings: SyncSettings, synchronousCommit: String?, primaryFlush: Int64) -> SyncPicture {
        let candidates = SyncCandidate.list(me: me, replication: replication, members: members,
                                            synchronousCommit: synchronousCommit)
        for c in candidates where !ready.contains(c.key) && parsed.members.contains(c.key) {
            if settings.isQuorum {
                if c.lsn >= flushAtChange && c.syncState == "quorum" { ready.insert(c.key) }
            } else if syncKey?.matches(c.name) == true || (c.syncState == "sync" && c.lsn >= flushAtChange) {
                ready.insert(c.key)
            }
        }
        // Lag is measured against the most advanced candidate, or the primary with only one.
        let maxLSN = candidates.count > 1 ? candidates.map(\.lsn).max() ?? primaryFlush : primaryFlush
        var active: [String] = []
        var confirmed: [String] = []
        let wanted = settings.wantedNodes
        // Members that may be promoted first (a stable sort keeps the order within each group).
        let ordered = candidates.filter { !$0.nofailover } + candidates.filter(\.nofailover)
        for c in ordered {
            guard settings.maximumLagOnSyncnode <= 0 || WALDistance.behind(maxLSN, c.lsn) <= settings.maximumLagOnSyncnode else {
                continue
            }
            if settings.isQuorum {
                // A member that may not be promoted adds no availability as a voter.
                if !c.nofailover || active.count < wanted {
                    if ready.contains(c.key) { confirmed.append(c.name) }
                    active.append(c.name)
                }
            } else {
                active.append(c.name)
                if c.syncState == "sync" && ready.contains(c.key) { confirmed.append(c.name) }
                if active.count >= wanted { break }
            }
        }
        return SyncPicture(kind: parsed.kind, numsync: parsed.num, syncNames: parsed.hasStar ? [] : parsed.listed,
                           confirmed: confirmed, active: active)
    }

    /// Forgets everything: this member no longer leads.
    mutating func reset() { self = SyncMemory() }

    mutating func startManaging(at now: Duration) { if managingSince == nil { managingSince = now } }
}

/// A standby that may be synchronous: streaming from this primary, a running member of the
/// cluster without `nosync`, not one that should cascade from another standby.
struct SyncCandidate: Equatable {
    var name: String
    var key: String { name.lowercased() }
    var syncState: String
    var lsn: Int64
    var nofailover: Bool
    var syncPriority: Int64

    static func list(me: String, replication: [StandbyConnection], members: [Member], synchronousCommit: String?) -> [SyncCandidate] {
        var eligible: [String: Member] = [:]
        for m in members where m.record.state == "running" && m.name.lowercased() != me.lowercased() {
            if SyncTags(m.record.tags).allowsSync { eligible[m.name.lowercased()] = m }
        }
        func position(_ r: StandbyConnection) -> Int64? {
            switch synchronousCommit {
            case "remote_apply": r.replayLSN
            case "remote_write": r.writeLSN
            default: r.flushLSN
            }
        }
        var rows: [String: (StandbyConnection, Int64)] = [:]
        var order: [String] = []
        for r in replication {
            let key = r.applicationName.lowercased()
            guard eligible[key] != nil, let lsn = position(r) else { continue }
            if rows[key] == nil { order.append(key) }
            rows[key] = (r, lsn)
        }
        var list: [SyncCandidate] = []
        for key in order {
            guard let (row, lsn) = rows[key], let member = eligible[key],
                  !shouldCascade(member, eligible: eligible, streaming: Set(rows.keys)) else { continue }
            let tags = SyncTags(member.record.tags)
            list.append(SyncCandidate(name: member.name, syncState: row.syncState, lsn: lsn,
                                      nofailover: !member.record.failoverTags.allowsPromotion, syncPriority: tags.priority))
        }
        // Higher sync_priority, then "sync" before the others (by name, as Patroni compares the
        // strings), then the most advanced. Stable, so equal ones keep pg_stat_replication's order.
        return list.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if x.syncPriority != y.syncPriority { return x.syncPriority > y.syncPriority }
            if x.syncState != y.syncState { return x.syncState > y.syncState }
            if x.lsn != y.lsn { return x.lsn > y.lsn }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// A member tagged `replicatefrom` another eligible standby that streams from the primary
    /// should stream from that one, not be synchronous here (Patroni's _should_cascade).
    static func shouldCascade(_ member: Member, eligible: [String: Member], streaming: Set<String>, depth: Int = 0) -> Bool {
        guard depth < 32, let from = member.record.tag("replicatefrom")?.stringValue?.lowercased(),
              let upstream = eligible[from] else { return false }
        guard upstream.record.tag("replicatefrom")?.stringValue != nil else { return streaming.contains(from) }
        return shouldCascade(upstream, eligible: eligible, streaming: streaming, depth: depth + 1)
    }
}

/// `nosync` and `sync_priority` as every member reads them: the same rule as nofailover and
/// failover_priority (`FailoverTags.pair`).
public struct SyncTags: Sendable, Equatable {
    public var nosync: Bool
    public var priority: Int64

    public init(_ tags: JSONValue?) {
        (nosync, priority) = FailoverTags.pair(tags, flag: "nosync", priority: "sync_priority")
    }

    public var allowsSync: Bool { !nosync && priority > 0 }
}
