import Testing
import VigilAPI
import VigilCore

/// Patroni's health-check table (spec §1.2), answered from a snapshot alone.
@Suite struct HealthCheckTests {
    let now = ContinuousClock.now

    func primary() -> NodeSnapshot {
        var s = NodeSnapshot(scope: "demo", name: "n1", postgres: PostgresStatus(state: .running, role: .primary, timeline: 2, walPosition: 5000))
        s.cluster = ClusterState(leader: LeaderLock(name: "n1"), status: StatusRecord(optime: 5000))
        s.clusterReadAt = now
        s.leaderUntil = now + .seconds(10)
        return s
    }

    func replica(replayed: Int64 = 4000, tags: JSONValue? = nil) -> NodeSnapshot {
        var s = NodeSnapshot(scope: "demo", name: "n2", postgres: PostgresStatus(
            state: .running, role: .replica, timeline: 2, walPosition: replayed, receiveLSN: replayed, replayLSN: replayed,
            replicationState: "streaming"))
        s.cluster = ClusterState(leader: LeaderLock(name: "n1"), status: StatusRecord(optime: 5000))
        s.clusterReadAt = now
        s.tags = tags
        return s
    }

    func status(_ path: String, _ s: NodeSnapshot, _ query: [String: String] = [:]) -> Int {
        HealthCheck.status(path: path, query: query, snapshot: s, now: now)
    }

    @Test(arguments: ["/", "/primary", "/master", "/read-write", "/leader"])
    func primaryPathsAnswer200OnTheLeaderAnd503OnAReplica(path: String) {
        #expect(status(path, primary()) == 200)
        #expect(status(path, replica()) == 503)
    }

    @Test(arguments: ["/replica", "/read-only", "/health"])
    func replicaPathsAnswer200OnAStreamingReplica(path: String) {
        #expect(status(path, replica()) == 200)
    }

    @Test func theLeaderIsNotAReplicaButIsReadOnlyCapable() {
        #expect(status("/replica", primary()) == 503)
        #expect(status("/read-only", primary()) == 200)
        #expect(status("/health", primary()) == 200)
    }

    @Test func aLockThatLapsedStopsWritesBeingRoutedAtOnce() {
        var s = primary()
        s.leaderUntil = now - .milliseconds(1)
        #expect(status("/primary", s) == 503)
        #expect(status("/leader", s) == 503)
    }

    @Test func aCrashedPostmasterIsNeitherPrimaryNorHealthy() {
        var s = primary()
        s.postgres.state = .crashed("killed(9)")
        #expect(status("/primary", s) == 503)
        #expect(status("/health", s) == 503)
        #expect(status("/replica", replicaCrashed()) == 503)
    }

    func replicaCrashed() -> NodeSnapshot {
        var s = replica()
        s.postgres.state = .crashed("exited(1)")
        return s
    }

    @Test func lagFilterComparesWithTheLeadersLastPosition() {
        #expect(status("/replica", replica(replayed: 4000), ["lag": "1000"]) == 200)
        #expect(status("/replica", replica(replayed: 4000), ["lag": "999"]) == 503)
        #expect(status("/replica", replica(replayed: 0), ["lag": "1MB"]) == 200)
        #expect(HealthCheck.parseBytes("16kB") == 16_384)
        #expect(HealthCheck.parseBytes("10MB") == 10_485_760)
        #expect(HealthCheck.parseBytes("x") == nil)
    }

    @Test func tagFiltersMustMatchTheConfiguredTags() {
        let tagged = replica(tags: ["clonefrom": true, "zone": "a"])
        #expect(status("/replica", tagged, ["tag_clonefrom": "true"]) == 200)
        #expect(status("/replica", tagged, ["tag_zone": "A"]) == 200)
        #expect(status("/replica", tagged, ["tag_zone": "b"]) == 503)
        #expect(status("/replica", tagged, ["tag_missing": "1"]) == 503)
    }

    @Test func noloadbalanceTakesAReplicaOutOfTheReadPool() {
        var s = replica()
        s.noloadbalance = true
        #expect(status("/replica", s) == 503)
    }

    @Test func unknownPathsAnswer503() {
        #expect(status("/foo", primary()) == 503)
        #expect(status("/sync", replica()) == 503)
        #expect(status("/async", replica()) == 200)
    }

    @Test func inPauseWithoutTheStoreTheRunningPrimaryStillCountsAsLeader() {
        var s = primary()
        s.paused = true
        s.clusterReadAt = now - .seconds(60)
        s.leaderUntil = nil
        #expect(status("/primary", s) == 200)
    }

    @Test func livenessFailsWhenTheLoopIsLateByMoreThanTTL() {
        var s = primary()
        s.ttl = 10
        s.nextRun = now - .seconds(5)
        #expect(HealthCheck.liveness(s, now: now) == 200)
        s.nextRun = now - .seconds(11)
        #expect(HealthCheck.liveness(s, now: now) == 503)
        s.paused = true
        #expect(HealthCheck.liveness(s, now: now) == 200)
    }

    /// Every health endpoint in every role a node can be in, against spec §1.2 (and Vigil's one
    /// deliberate difference: a leader whose PostgreSQL is not running is not routed writes).
    @Test func everyEndpointInEveryRole() {
        let paths = ["/", "/primary", "/master", "/leader", "/read-write", "/standby-leader", "/replica", "/read-only",
                     "/health", "/sync", "/async", "/quorum", "/read-only-sync"]
        var leaderless = replica()
        leaderless.cluster?.leader = nil
        var lapsed = primary()
        lapsed.clusterReadAt = now - .seconds(60)
        lapsed.leaderUntil = now - .seconds(1)
        var pausedWithoutStore = lapsed
        pausedWithoutStore.paused = true
        var pausedReplica = replica()
        pausedReplica.paused = true
        var stoppedReplica = replica()
        stoppedReplica.postgres = PostgresStatus(state: .stopped)
        stoppedReplica.internalRole = "replica"
        var stoppedPrimary = primary()
        stoppedPrimary.postgres = PostgresStatus(state: .stopped)
        stoppedPrimary.internalRole = "primary"
        var restarting = primary()
        restarting.busyWith = "restarting"
        let table: [(String, NodeSnapshot, [Int])] = [
            //                               /    prim master lead  rw   stby  repl  ro   health sync async quor ro-sync
            ("primary", primary(),           [200, 200, 200, 200, 200, 503, 503, 200, 200, 503, 503, 503, 200]),
            ("replica", replica(),           [503, 503, 503, 503, 503, 503, 200, 200, 200, 503, 200, 503, 503]),
            ("leaderless replica", leaderless, [503, 503, 503, 503, 503, 503, 200, 200, 200, 503, 200, 503, 503]),
            ("primary cut off from the store", lapsed, [503, 503, 503, 503, 503, 503, 503, 503, 200, 503, 503, 503, 503]),
            // The synchronous roles need a fresh view of the store, even the leader's /read-only-sync.
            ("paused primary cut off from the store", pausedWithoutStore,
                                             [200, 200, 200, 200, 200, 503, 503, 200, 200, 503, 503, 503, 503]),
            ("paused replica", pausedReplica, [503, 503, 503, 503, 503, 503, 200, 200, 200, 503, 200, 503, 503]),
            ("replica with PostgreSQL stopped", stoppedReplica,
                                             [503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503]),
            ("leader with PostgreSQL stopped", stoppedPrimary,
                                             [503, 503, 503, 200, 503, 503, 503, 503, 503, 503, 503, 503, 503]),
            ("leader restarting PostgreSQL", restarting,
                                             [503, 503, 503, 200, 503, 503, 503, 503, 503, 503, 503, 503, 503]),
        ]
        for (role, snapshot, expected) in table {
            let got = paths.map { status($0, snapshot) }
            #expect(got == expected, "\(role): \(zip(paths, got).map { "\($0) \($1)" }.joined(separator: ", "))")
        }
    }

    @Test func readinessWantsTheLeaderOrAStreamingReplicaWithinTheLag() {
        #expect(HealthCheck.readiness(query: [:], snapshot: primary(), now: now) == 200)
        #expect(HealthCheck.readiness(query: [:], snapshot: replica(replayed: 4000), now: now) == 200)
        #expect(HealthCheck.readiness(query: ["lag": "10"], snapshot: replica(replayed: 4000), now: now) == 503)
    }
}

@Suite struct ScheduleTimeTests {
    @Test func acceptsISOTimesWithAZoneAndAsksForTheZoneOtherwise() {
        #expect(ISOTime.read("2030-01-01T00:00:00+00:00") == .time(1_893_456_000))
        #expect(ISOTime.read("2030-01-01T00:00+00:00") == .time(1_893_456_000))
        #expect(ISOTime.read("2030-01-01T02:00+02:00") == .time(1_893_456_000))
        #expect(ISOTime.read("2030-01-01T00:00") == .missingTimeZone)
        #expect(ISOTime.read("tomorrow") == .unparsable)
    }
}
