import Testing
import VigilCore

/// The records under a cluster's keys, in Patroni's exact JSON.
@Suite struct ClusterRecordsTests {
    @Test func replicaMemberIsWrittenInPatronisKeyOrder() {
        var record = MemberRecord(connURL: "postgres://127.0.0.1:5432/postgres", apiURL: "http://127.0.0.1:8008/patroni",
                                  state: "running", role: "replica", version: "4.1.5",
                                  tags: ["nofailover": false, "clonefrom": true],
                                  xlogLocation: 50_331_800, replayLSN: 50_331_800, receiveLSN: 50_331_800,
                                  replicationState: "streaming", timeline: 5)
        #expect(record.jsonValue.compactText == #"{"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"http://127.0.0.1:8008/patroni","state":"running","role":"replica","version":"4.1.5","tags":{"nofailover":false,"clonefrom":true},"xlog_location":50331800,"replay_lsn":50331800,"receive_lsn":50331800,"replication_state":"streaming","timeline":5}"#)
        record.pendingRestart = true
        record.pause = true
        #expect(record.jsonValue.compactText.contains(#""tags":{"nofailover":false,"clonefrom":true},"pending_restart":true,"xlog"#))
        #expect(record.jsonValue.compactText.hasSuffix(#""timeline":5,"pause":true}"#))
    }

    @Test func memberRecordKeepsFieldsItDoesNotKnow() throws {
        let text = #"{"conn_url":"postgres://h:5432/postgres","role":"master","state":"running","future_field":{"x":1}}"#
        let record = try #require(MemberRecord(json: try JSONValue.parse(text)))
        #expect(record.isPrimary)
        #expect(record.jsonValue.compactText == #"{"conn_url":"postgres://h:5432/postgres","state":"running","role":"master","future_field":{"x":1}}"#)
    }

    @Test func failoverRequestReadsJSONAndTheLegacyForm() {
        #expect(FailoverRequest(text: #"{"leader":"n1","member":"n2"}"#) == FailoverRequest(leader: "n1", member: "n2"))
        #expect(FailoverRequest(text: "n1:n2") == FailoverRequest(leader: "n1", member: "n2"))
        #expect(FailoverRequest(text: ":n2") == FailoverRequest(member: "n2"))
        #expect(FailoverRequest(text: "{}")?.isEmpty == true)
        #expect(FailoverRequest(text: "[1]") == nil)
        #expect(FailoverRequest().jsonValue.compactText == "{}")
        #expect(FailoverRequest(leader: "a", member: "b", scheduledAt: "2026-11-27T10:00:00+00:00").jsonValue.compactText
            == #"{"leader":"a","member":"b","scheduled_at":"2026-11-27T10:00:00+00:00"}"#)
    }

    @Test func syncAndStatusAndHistoryAsPatroniWritesThem() {
        #expect(SyncState(leader: "n1", syncStandby: ["n3", "n2"]).jsonValue.compactText
            == #"{"leader":"n1","quorum":0,"sync_standby":"n2,n3"}"#)
        #expect(StatusRecord(optime: 67_108_992, slots: [("n2", 67_108_992)]).jsonValue.compactText
            == #"{"optime":67108992,"slots":{"n2":67108992}}"#)
        #expect(StatusRecord(json: .int(5)) == StatusRecord(optime: 5))
        let history = [TimelineEvent(timeline: 1, lsn: 50_331_808, reason: "no recovery target specified",
                                     timestamp: "2026-11-27T12:00:00.000000+00:00", newLeader: "n2")]
        #expect(JSONValue.array(history.map(\.jsonValue)).compactText
            == #"[[1,50331808,"no recovery target specified","2026-11-27T12:00:00.000000+00:00","n2"]]"#)
        #expect(TimelineEvent(json: [2, 100, "r"]) == TimelineEvent(timeline: 2, lsn: 100, reason: "r"))
    }

    /// Values a store or a peer can hold but PostgreSQL cannot (negative positions, timelines
    /// outside its 32-bit IDs) read as unknown, never as numbers to compute with.
    @Test func valuesPostgreSQLCannotHaveReadAsUnknown() throws {
        let member = try #require(MemberRecord(json: try JSONValue.parse(
            #"{"state":"running","xlog_location":-5,"replay_lsn":9223372036854775807,"timeline":4294967296}"#)))
        #expect(member.xlogLocation == nil && member.replayLSN == .max && member.timeline == nil)
        #expect(StatusRecord(json: .int(-1)) == nil)
        let status = try #require(StatusRecord(json: try JSONValue.parse(#"{"optime":-9223372036854775808,"slots":{"n2":-1,"n3":7}}"#)))
        #expect(status.optime == nil && status.slots.map(\.name) == ["n3"])
        #expect(TimelineEvent(json: [0, 100, "r"]) == nil && TimelineEvent(json: [2, -1, "r"]) == nil)
        #expect(TimelineEvent(json: [.int(4_294_967_295), 1, "r"])?.timeline == 4_294_967_295)
        // The sync key as Patroni reads it: names trimmed, empty ones dropped, quorum only with a leader.
        let sync = try #require(SyncState(json: try JSONValue.parse(#"{"leader":"n1","quorum":1,"sync_standby":" n2, ,n3,"}"#)))
        #expect(sync == SyncState(leader: "n1", quorum: 1, syncStandby: ["n2", "n3"]))
        #expect(SyncState(json: try JSONValue.parse(#"{"leader":"","quorum":5}"#)) == SyncState(leader: nil, syncStandby: []))
        #expect(SyncState(json: try JSONValue.parse(#"{"leader":"n1","quorum":-3}"#))?.quorum == nil)
    }

    @Test func clusterTimelineFollowsPatronisRule() {
        #expect(ClusterState().timeline == 0)
        #expect(ClusterState(history: Versioned([], version: 1)).timeline == 1)
        #expect(ClusterState(history: Versioned([TimelineEvent(timeline: 3, lsn: 1, reason: "")], version: 1)).timeline == 4)
    }
}

@Suite struct ConnectionURLTests {
    @Test func parsesHostAndPortAsPatroniWritesThem() {
        #expect(ConnectionURL.hostPort("postgres://10.0.0.4:5432/postgres") == HostPort(hosts: ["10.0.0.4"], port: 5432))
        #expect(ConnectionURL.hostPort("postgresql://user@db.example:6543/x") == HostPort(hosts: ["db.example"], port: 6543))
        #expect(ConnectionURL.hostPort("postgres://[::1]:5433/postgres") == HostPort(hosts: ["::1"], port: 5433))
        #expect(ConnectionURL.hostPort("postgres://host/postgres") == HostPort(hosts: ["host"], port: 5432))
        #expect(ConnectionURL.hostPort("not a url") == nil)
    }

    @Test func makesTheURLOtherMembersCloneFrom() {
        #expect(ConnectionURL.make(HostPort(hosts: ["127.0.50.21"], port: 5432)) == "postgres://127.0.50.21:5432/postgres")
        #expect(ConnectionURL.make(HostPort(hosts: ["::1"], port: 5432)) == "postgres://[::1]:5432/postgres")
    }
}
