import Testing
import VigilCore

/// Which replication slots each node keeps (Patroni 4's rules), one rule per test.
@Suite struct SlotPlanTests {
    static func member(_ name: String, tags: [(key: String, value: JSONValue)] = [], xlog: Int64? = nil) -> Member {
        Member(name: name, record: MemberRecord(state: "running", role: "replica", tags: tags.isEmpty ? nil : .object(tags),
                                                xlogLocation: xlog))
    }

    static func cluster(_ members: [Member], leader: String = "n1", slots: [(name: String, lsn: Int64)] = [],
                        retain: [String] = []) -> ClusterState {
        ClusterState(initialize: "7000", leader: LeaderLock(name: leader, version: 1), members: members,
                     status: StatusRecord(optime: 9000, slots: slots, retainSlots: retain))
    }

    static func facts(_ me: String, leading: Bool, _ cluster: ClusterState, settings: SlotSettings = SlotSettings(),
                      nofailover: Bool = false, paused: Bool = false) -> SlotPlan.Facts {
        SlotPlan.Facts(me: me, leading: leading, nofailover: nofailover, cluster: cluster, settings: settings, paused: paused)
    }

    static func slot(_ name: String, at lsn: Int64? = 1000, active: Bool = false, type: String = "physical",
                     walStatus: String? = "reserved", xmin: Bool = false) -> ReplicationSlot {
        ReplicationSlot(name: name, type: type, active: active, restartLSN: lsn, walStatus: walStatus, holdsXmin: xmin)
    }

    static let three = [member("n1"), member("n2"), member("n3")]

    @Test func aPrimaryKeepsASlotForEveryOtherMemberButOneThatStreamsNothing() {
        let members = Self.three + [Self.member("archive-1", tags: [("nostream", .bool(true))])]
        let changes = SlotPlan.changes(Self.facts("n1", leading: true, Self.cluster(members)), existing: [Self.slot("n2", active: true)])
        #expect(changes == [.create("n3")])
    }

    /// The next primary must already have every member's slot: each replica keeps inactive
    /// copies, moved to where the leader's are (and of the leader's own, at its WAL position).
    @Test func aReplicaKeepsCopiesAdvancedToTheLeaders() {
        let cluster = Self.cluster(Self.three, slots: [("n1", 9000), ("n3", 8000)])
        let changes = SlotPlan.changes(Self.facts("n2", leading: false, cluster),
                                       existing: [Self.slot("n1", at: 7000), Self.slot("n3", at: 8000), Self.slot("n2")])
        #expect(changes == [.advance("n1", to: 9000), .drop("n2")], "its own slot is nobody's")
        let fresh = SlotPlan.changes(Self.facts("n2", leading: false, cluster), existing: [])
        #expect(fresh == [.create("n1"), .create("n3")])
    }

    /// With member_slots_ttl 0 a replica keeps only the slots of members cascading from it.
    @Test func withoutRetentionAReplicaKeepsOnlyItsCascadingMembersSlots() {
        let settings = SlotSettings(memberSlotsTTL: .zero)
        let members = Self.three + [Self.member("n4", tags: [("replicatefrom", .string("n2"))], xlog: 8500)]
        let changes = SlotPlan.changes(Self.facts("n2", leading: false, Self.cluster(members), settings: settings),
                                       existing: [Self.slot("n1"), Self.slot("n3")])
        #expect(changes == [.drop("n1"), .drop("n3"), .create("n4")])
        let wanted = SlotPlan.wanted(Self.facts("n2", leading: false, Self.cluster(members), settings: settings))
        #expect(wanted["n4"] == SlotPlan.Wanted(name: "n4", lsn: 8500, expectedActive: true))
    }

    /// A node that can never lead keeps only what cascades from it; no permanent or retained slot.
    @Test func aNofailoverReplicaKeepsNoCopies() {
        let settings = SlotSettings(permanent: [PermanentSlot(name: "backup")])
        let cluster = Self.cluster(Self.three, retain: ["gone"])
        #expect(SlotPlan.wanted(Self.facts("n3", leading: false, cluster, settings: settings, nofailover: true)).isEmpty)
        #expect(Set(SlotPlan.wanted(Self.facts("n3", leading: false, cluster, settings: settings)).keys) == ["n1", "n2", "gone", "backup"])
    }

    /// A permanent slot is created on the primary (a consumer streams through it) and copied,
    /// inactive and advanced, to every replica that may become primary.
    @Test func aPermanentSlotIsKeptOnThePrimaryAndCopiedToReplicas() {
        let settings = SlotSettings(permanent: [PermanentSlot(name: "backup"), PermanentSlot(name: "n1")])
        let cluster = Self.cluster(Self.three, slots: [("backup", 6000)])
        let primary = SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings), existing: [Self.slot("backup", at: 100)])
        #expect(primary == [.create("n2"), .create("n3")], "the primary's own copy is its consumer's to move")
        let replica = SlotPlan.changes(Self.facts("n2", leading: false, cluster, settings: settings),
                                       existing: [Self.slot("backup", at: 100), Self.slot("n1"), Self.slot("n3")])
        #expect(replica == [.advance("backup", to: 6000)])
    }

    /// Slots nobody manages go, except those `ignore_slots` names, and none while paused.
    @Test func unknownSlotsAreDroppedUnlessIgnoredOrPaused() {
        let settings = SlotSettings(ignore: [SlotMatcher(name: "debezium")])
        let cluster = Self.cluster(Self.three)
        let existing = [Self.slot("n2", active: true), Self.slot("n3", active: true), Self.slot("old_member"),
                        Self.slot("debezium", type: "logical"), Self.slot("tool", type: "logical")]
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings), existing: existing)
                == [.drop("old_member"), .drop("tool")])
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings, paused: true), existing: existing).isEmpty)
    }

    /// A slot whose WAL is gone is useless (its member needs a new copy): it goes, and is made
    /// again. So does an inactive copy holding an xmin, or one of the wrong type.
    @Test func lostWrongTypedAndXminHoldingCopiesAreDropped() {
        let cluster = Self.cluster(Self.three, slots: [("n1", 9000)])
        let changes = SlotPlan.changes(Self.facts("n2", leading: false, cluster),
                                       existing: [Self.slot("n1", walStatus: "lost"), Self.slot("n3", xmin: true)])
        #expect(changes == [.drop("n1"), .drop("n3")])
        let typed = SlotPlan.changes(Self.facts("n1", leading: true, cluster), existing: [Self.slot("n2", type: "logical"), Self.slot("n3")])
        #expect(typed == [.drop("n2")])
    }

    /// A logical permanent slot is kept where it exists, never made by the agent.
    @Test func aLogicalPermanentSlotIsKeptNotCreated() {
        let cdc = PermanentSlot(name: "cdc", kind: .logical(database: "app", plugin: "pgoutput"))
        let settings = SlotSettings(permanent: [cdc])
        let cluster = Self.cluster([Self.member("n1")])
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings), existing: []).isEmpty)
        var existing = ReplicationSlot(name: "cdc", type: "logical", active: false, restartLSN: 100, database: "app", plugin: "pgoutput")
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings), existing: [existing]).isEmpty)
        existing.plugin = "wal2json"
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, cluster, settings: settings), existing: [existing]) == [.drop("cdc")])
    }

    /// Without use_slots the slots are the operator's: none made, none dropped.
    @Test func withoutUseSlotsNothingIsTouchedOrPublished() {
        let facts = Self.facts("n1", leading: true, Self.cluster(Self.three), settings: SlotSettings(useSlots: false))
        #expect(SlotPlan.changes(facts, existing: [Self.slot("n2"), Self.slot("own")]).isEmpty)
        #expect(SlotPlan.published(facts, existing: [Self.slot("n2")], walPosition: 9000).isEmpty)
    }

    /// The leader publishes where its managed slots are and its own slot at its WAL position;
    /// with member_slots_ttl 0, only the permanent ones.
    @Test func theLeaderPublishesItsSlotsPositions() {
        let settings = SlotSettings(permanent: [PermanentSlot(name: "backup")])
        let existing = [Self.slot("n2", at: 8000, active: true), Self.slot("backup", at: 5000), Self.slot("stray", at: 1)]
        let published = SlotPlan.published(Self.facts("n1", leading: true, Self.cluster(Self.three), settings: settings),
                                           existing: existing, walPosition: 9000)
        #expect(published.map(\.name) == ["backup", "n1", "n2"] && published.map(\.lsn) == [5000, 9000, 8000])
        var noRetention = settings
        noRetention.memberSlotsTTL = .zero
        let permanentOnly = SlotPlan.published(Self.facts("n1", leading: true, Self.cluster(Self.three), settings: noRetention),
                                               existing: existing, walPosition: 9000)
        #expect(permanentOnly.map(\.name) == ["backup"])
    }

    /// A member that left keeps its slot for member_slots_ttl after the leader last saw it,
    /// then its slot goes; a new leader restarts the count from the list it inherits.
    @Test func aDepartedMembersSlotIsRetainedForTheTTL() {
        var retention = SlotRetention()
        let ttl = Duration.seconds(1800)
        let all = Self.cluster(Self.three)
        #expect(retention.update(published: ["n1", "n2", "n3", "backup"], me: "n1", cluster: all, permanent: ["backup"],
                                 ttl: ttl, at: .seconds(100)) == ["n1", "n2", "n3"])
        let withoutN3 = Self.cluster([Self.member("n1"), Self.member("n2")])
        #expect(retention.update(published: ["n1", "n2", "n3"], me: "n1", cluster: withoutN3, permanent: [], ttl: ttl,
                                 at: .seconds(1000)) == ["n1", "n2", "n3"])
        // n3's slot stays wanted on every node while retained…
        let retained = Self.cluster([Self.member("n1"), Self.member("n2")], retain: ["n1", "n2", "n3"])
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, retained), existing: [Self.slot("n2", active: true), Self.slot("n3")]).isEmpty)
        // …until the ttl has passed since it was last seen with its member.
        #expect(retention.update(published: ["n1", "n2", "n3"], me: "n1", cluster: withoutN3, permanent: [], ttl: ttl,
                                 at: .seconds(1900)) == ["n1", "n2"])
        let expired = Self.cluster([Self.member("n1"), Self.member("n2")], retain: ["n1", "n2"])
        #expect(SlotPlan.changes(Self.facts("n1", leading: true, expired), existing: [Self.slot("n2", active: true), Self.slot("n3")])
                == [.drop("n3")])

        // A new leader carries on from the list in the store, as if each were seen when it took over.
        var successor = SlotRetention()
        let inherited = Self.cluster([Self.member("n2")], leader: "n2", retain: ["n1", "n3"])
        #expect(successor.update(published: [], me: "n2", cluster: inherited, permanent: [], ttl: ttl, at: .seconds(5000))
                == ["n1", "n3"])
        #expect(successor.update(published: [], me: "n2", cluster: inherited, permanent: [], ttl: ttl, at: .seconds(6700))
                == ["n1", "n3"])
        #expect(successor.update(published: [], me: "n2", cluster: inherited, permanent: [], ttl: ttl, at: .seconds(6800)).isEmpty)
    }
}
