import Testing
import VigilAPI
import VigilCore

/// `GET /patroni` has Patroni's fields, order and types (spec §1.3).
@Suite struct StatusDocumentTests {
    /// Vigil's own field: the fence's state, the seconds left while armed, the error when it
    /// cannot be told.
    @Test func theFenceIsReported() throws {
        let now = ContinuousClock.now
        var s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .running, role: .primary, timeline: 1))
        s.fence = .armed(until: now + .milliseconds(7250))
        #expect(StatusDocument.json(s, now: now)["fence"]?.compactText == #"{"state":"armed","seconds_left":7.25}"#)
        s.fence = .failing("no fence answers for /data")
        #expect(StatusDocument.json(s, now: now)["fence"]?.compactText == #"{"state":"failing","error":"no fence answers for /data"}"#)
    }

    /// The watchdog behind the fence, and Patroni's `watchdog_failed` (last, as Patroni emits it).
    @Test func theWatchdogIsReported() throws {
        let now = ContinuousClock.now
        var s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .running, role: .primary, timeline: 1))
        s.fence = .armed(until: now + .milliseconds(5250))
        s.watchdog = .running(timeout: 25)
        #expect(StatusDocument.json(s, now: now)["fence"]?.compactText == #"{"state":"armed","seconds_left":5.25,"watchdog":{"state":"running","timeout":25}}"#)
        s.fence = .disarmed
        s.watchdog = .failed("cannot open /dev/watchdog: No such file or directory")
        s.watchdogFailed = true
        let json = StatusDocument.json(s, now: now)
        #expect(json["fence"]?.compactText == #"{"state":"disarmed","watchdog":{"state":"failed","error":"cannot open /dev/watchdog: No such file or directory"}}"#)
        #expect(json["watchdog_failed"] == true)
        guard case let .object(entries) = json else { throw StatusTestError() }
        #expect(entries.last?.key == "watchdog_failed")
    }

    /// Positions read when asked replace the cycle's; a server that did not answer is shown as
    /// Patroni shows it (state "unknown", no `xlog`), which a racing peer reads as no answer,
    /// and not with the cycle's positions (seed 150687).
    @Test func theLivePositionsOrNoneAreShown() {
        let replica = NodeSnapshot(scope: "demo", name: "n2", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 1, walPosition: 6304, receiveLSN: 6304, replayLSN: 6304))
        var read = replica
        read.take(.read(WALPositions(role: .replica, walPosition: 6845, receiveLSN: 6845, replayLSN: 6845)))
        #expect(StatusDocument.json(read)["xlog"]?["replayed_location"] == .int(6845))
        var silent = replica
        silent.take(.unanswered)
        let json = StatusDocument.json(silent)
        #expect(json["state"] == .string("unknown") && json["xlog"] == nil)
        var notAsked = replica
        notAsked.take(.notAsked)
        #expect(StatusDocument.json(notAsked)["xlog"]?["replayed_location"] == .int(6304))
    }

    @Test func aReplicaReportsIntegerLocationsAndItsReplicationState() throws {
        var s = NodeSnapshot(scope: "demo", name: "n2", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 3, walPosition: 900, receiveLSN: 900, replayLSN: 800,
            replicationState: "streaming", postmasterStartTime: "2026-11-27 10:00:00.5+00", systemIdentifier: "7268616322854375442"))
        s.postgres.serverVersion = 180006
        s.clusterReadAt = .now
        s.cluster = ClusterState(leader: LeaderLock(name: "n1"))
        s.dcsLastSeen = 1_795_000_000
        let json = StatusDocument.json(s)
        #expect(json.compactText == #"{"state":"running","postmaster_start_time":"2026-11-27 10:00:00.5+00:00","role":"replica","server_version":180006,"xlog":{"received_location":900,"replayed_location":800,"replayed_timestamp":null,"paused":false},"timeline":3,"replication_state":"streaming","dcs_last_seen":1795000000,"database_system_identifier":"7268616322854375442","fence":{"state":"disarmed"},"patroni":{"version":"\#(VigilVersion.string)","scope":"demo","name":"n2"}}"#)
    }

    @Test func aStoppedNodeReportsOnlyStateAndItsOwnRole() {
        let s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .stopped), internalRole: "uninitialized")
        let json = StatusDocument.json(s)
        #expect(json["state"] == "stopped")
        #expect(json["role"] == "uninitialized")
        #expect(json["xlog"] == nil)
        #expect(json["cluster_unlocked"] == true)
    }

    @Test func aPrimaryReportsItsFlushLocation() {
        var s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .running, role: .primary, timeline: 1, walPosition: 67_395_656))
        s.paused = true
        s.tags = ["clonefrom": true]
        let json = StatusDocument.json(s)
        #expect(json["xlog"] == ["location": 67_395_656])
        #expect(json["pause"] == true)
        #expect(json["tags"] == ["clonefrom": true])
        #expect(json["role"] == "primary")
    }

    @Test func aLongOperationIsShownAsTheState() {
        var s = NodeSnapshot(scope: "demo", name: "n3")
        s.busyWith = "creating replica"
        #expect(StatusDocument.json(s)["state"] == "creating replica")
    }
}

struct StatusTestError: Error {}
