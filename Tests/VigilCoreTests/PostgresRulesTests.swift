import Testing
import VigilCore

/// Pure rules about PostgreSQL that the instance and the engine rely on.
@Suite struct PostgresRulesTests {
    @Test func slotNamesFollowPatroni() {
        #expect(SlotName.forMember("postgres105") == "postgres105")
        #expect(SlotName.forMember("Node-1.dc") == "node_1_dc")
        #expect(SlotName.forMember("é") == "u0233")
        #expect(SlotName.forMember(String(repeating: "a", count: 80)).count == 63)
    }

    @Test func historyFilesParse() {
        let history = TimelineDivergence.parseHistory("1\t0/3000060\tno recovery target specified\n\n2\t0/50000A0\tpromoted\n")
        #expect(history == [.init(parentTimeline: 1, switchpoint: 0x3000060), .init(parentTimeline: 2, switchpoint: 0x50000A0)])
    }

    @Test(arguments: [
        // (local timeline, local LSN, was a replica, primary timeline, needs rewind)
        (1, 0x3000028, false, 2, false),   // old primary stopped cleanly; its checkpoint precedes the switch
        (1, 0x3000060, false, 2, true),    // old primary wrote past the switchpoint
        (1, 0x3000060, true, 2, false),    // a replica that replayed exactly to the switchpoint
        (1, 0x3000061, true, 2, true),     // a replica that replayed beyond it
        (2, 0x9000000, false, 2, false),   // same timeline: just follow
        (3, 0x1000000, false, 2, true),    // ahead of the primary's timeline: diverged
        (5, 0x1000000, false, 6, true),    // timeline not in the history at all
    ])
    func divergenceFollowsPatronisRule(_ c: (Int64, Int64, Bool, Int64, Bool)) {
        let history: [TimelineDivergence.HistoryEntry] = [.init(parentTimeline: 1, switchpoint: 0x3000060)]
        #expect(TimelineDivergence.needsRewind(localTimeline: c.0, localLSN: c.1, inRecovery: c.2,
                                               primaryTimeline: c.3, history: c.3 == 6 ? [] : history) == c.4)
    }
}
