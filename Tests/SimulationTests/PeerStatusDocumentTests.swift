import Testing
import VigilAgent
import VigilAPI
import VigilCore

/// How a peer's `GET /patroni` document is read during a leader race and a switchover
/// pre-check (spec §1.3, §3.5): from documents as Patroni writes them, and from Vigil's own
/// document, so that a mixed cluster reads every member the same way.
@Suite struct PeerStatusDocumentTests {
    func read(_ name: String, _ text: String) throws -> PeerStatus {
        PeerProbe.peerStatus(name, try JSONValue.parse(text))
    }

    /// Vigil's document for `snapshot`, as bytes over the wire and back, as a peer reads it.
    func roundTrip(_ snapshot: NodeSnapshot) throws -> PeerStatus {
        let text = StatusDocument.json(snapshot, now: ContinuousClock.now).compactText
        return try read(snapshot.name, text)
    }

    // MARK: - Patroni's documents

    @Test func aStreamingReplica() throws {
        let status = try read("node2", """
            {"state":"running","postmaster_start_time":"2024-08-28 19:39:26.352526+00:00","role":"replica",
             "server_version":160004,
             "xlog":{"received_location":67395656,"replayed_location":67395600,"replayed_timestamp":null,"paused":false},
             "timeline":3,"replication_state":"streaming","dcs_last_seen":1724874295,
             "database_system_identifier":"7268616322854375442",
             "patroni":{"version":"4.1.5","scope":"demo","name":"node2"}}
            """)
        // The WAL position is the larger of received and replayed (spec §3.5); no tags: priority 1.
        #expect(status == PeerStatus(name: "node2", reachable: true, inRecovery: true, walPosition: 67_395_656,
                                     nofailover: false, failoverPriority: 1, timeline: 3))
    }

    @Test func aReplicaThatReplayedPastWhatItReportsReceivedCountsItsReplayPosition() throws {
        let status = try read("node2", #"""
            {"state":"running","role":"replica","xlog":{"received_location":1000,"replayed_location":4000,"replayed_timestamp":null,"paused":false},"timeline":2}
            """#)
        #expect(status.walPosition == 4000)
        #expect(status.inRecovery)
    }

    /// Patroni 4 says "primary"; Patroni 3 said "master", and a mixed cluster during an upgrade has both.
    @Test(arguments: ["primary", "master"])
    func aRunningPrimaryIsNotInRecovery(role: String) throws {
        let status = try read("node1", #"""
            {"state":"running","role":"\#(role)","xlog":{"location":67395656},"timeline":4,"patroni":{"version":"4.1.5","scope":"demo","name":"node1"}}
            """#)
        // Reachable and not in recovery is what makes a race candidate stand down ("Primary is still alive").
        #expect(status.reachable)
        #expect(!status.inRecovery)
        #expect(status.walPosition == 67_395_656, "a primary's position is xlog.location")
        #expect(status.timeline == 4)
    }

    /// Patroni's peer reading fails on a document without `xlog`, which it writes only while
    /// PostgreSQL runs, and counts the member as not reachable: it can neither lead nor be waited for.
    @Test(arguments: [
        #"{"state":"stopped","role":"replica","patroni":{"version":"4.1.5","scope":"demo","name":"node3"}}"#,
        #"{"state":"starting","role":"replica"}"#,
        #"{"state":"creating replica","role":"uninitialized"}"#,
        #"{"state":"unknown","role":"replica"}"#,
        #"{"state":"running","role":"replica"}"#,
        #"{"state":"stopped","role":"primary","tags":{"failover_priority":5}}"#,
    ])
    func aMemberWithoutRunningPostgresCountsAsUnreachable(document: String) throws {
        let status = try read("node3", document)
        #expect(status == PeerStatus.unreachable("node3"), "\(document)")
        #expect(Candidacy.refusal(status) == Candidacy.Refusal.unreachable)
    }

    /// Tags as Patroni's tags.py reads them: `nofailover` by truthiness and ahead of the
    /// priority; without it, `failover_priority` (a number or a string holding one) ≤ 0 means
    /// nofailover; the priority is 0 under nofailover and 1 by default.
    @Test(arguments: [
        (#"{"nofailover":true}"#, true, 0),
        (#"{"nofailover":1}"#, true, 0),
        (#"{"nofailover":false}"#, false, 1),
        (#"{"failover_priority":"0"}"#, true, 0),
        (#"{"failover_priority":"3"}"#, false, 3),
        (#"{"failover_priority":2,"nofailover":false}"#, false, 2),
        (#"{"clonefrom":true,"noloadbalance":true}"#, false, 1),
    ] as [(String, Bool, Int64)])
    func tagsAreReadAsPatroniReadsThem(_ c: (String, Bool, Int64)) throws {
        let status = try read("node2", #"""
            {"state":"running","role":"replica","xlog":{"received_location":5000,"replayed_location":5000,"replayed_timestamp":null,"paused":false},"timeline":2,"tags":\#(c.0)}
            """#)
        #expect(status.nofailover == c.1 && status.failoverPriority == c.2, "\(c.0)")
        // And the one rule built on them: such a member may take over only without nofailover.
        #expect((Candidacy.refusal(status) == nil) == !c.1, "\(c.0)")
    }

    @Test func aFailedWatchdogForbidsPromotion() throws {
        let failed = try read("node2", #"""
            {"state":"running","role":"replica","xlog":{"received_location":5000,"replayed_location":5000,"replayed_timestamp":null,"paused":false},"timeline":2,"watchdog_failed":true}
            """#)
        #expect(failed.reachable)
        #expect(Candidacy.refusal(failed) == Candidacy.Refusal.notAllowed, "Patroni's failover_limitation: not watchdog capable")

        let healthy = try read("node2", #"""
            {"state":"running","role":"replica","xlog":{"received_location":5000,"replayed_location":5000,"replayed_timestamp":null,"paused":false},"timeline":2,"watchdog_failed":false}
            """#)
        #expect(Candidacy.refusal(healthy) == nil)
    }

    @Test func aDocumentWithoutATimelineHasNone() throws {
        let status = try read("node2", #"{"state":"running","role":"replica","xlog":{"received_location":5000,"replayed_location":4000}}"#)
        #expect(status.timeline == nil)
        #expect(status.walPosition == 5000)
    }

    // MARK: - Vigil's own document, read back

    @Test func aReplicasDocumentReadsBackAsItsState() throws {
        let snapshot = NodeSnapshot(scope: "demo", name: "n2", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 3, walPosition: 900, receiveLSN: 900, replayLSN: 800,
            replicationState: "streaming"), tags: ["failover_priority": 3, "clonefrom": true])
        #expect(try roundTrip(snapshot) == PeerStatus(name: "n2", reachable: true, inRecovery: true, walPosition: 900,
                                                      nofailover: false, failoverPriority: 3, timeline: 3))
    }

    @Test func aReplicaThatReceivesNothingReportsItsReplayPosition() throws {
        // Archive recovery: no receiver, so only the replay position is known.
        let snapshot = NodeSnapshot(scope: "demo", name: "n3", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 2, replayLSN: 7000, replicationState: "in archive recovery"))
        let status = try roundTrip(snapshot)
        #expect(status.walPosition == 7000)
        #expect(status.inRecovery && status.reachable)
    }

    @Test func aPrimarysDocumentReadsBackAsItsState() throws {
        let snapshot = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(
            state: .running, role: .primary, timeline: 4, walPosition: 67_395_656), tags: ["nofailover": true])
        #expect(try roundTrip(snapshot) == PeerStatus(name: "n1", reachable: true, inRecovery: false, walPosition: 67_395_656,
                                                      nofailover: true, failoverPriority: 0, timeline: 4))
    }

    @Test func aNodeThatIsNotServingReadsBackAsUnreachable() throws {
        let stopped = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .stopped), internalRole: "primary")
        #expect(try roundTrip(stopped) == PeerStatus.unreachable("n1"))
        // PostgreSQL is up, but the agent is busy rebuilding it: not a member to wait for or promote.
        var busy = NodeSnapshot(scope: "demo", name: "n3", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 2, walPosition: 100, receiveLSN: 100, replayLSN: 100))
        busy.busyWith = "creating replica"
        #expect(try roundTrip(busy) == PeerStatus.unreachable("n3"))
    }
}
