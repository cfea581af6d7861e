import Testing
import VigilCore

/// The machine around the engine: its memory across looks and the steps it hands the shell,
/// one rule per test.
@Suite struct HAMachineTests {
    static let t0 = Duration.seconds(1000)
    static let settings: EngineSettings = {
        var settings = EngineSettings(timings: HATimings(ttl: 30, loopWait: 10, retryTimeout: 10))
        settings.usePgRewind = true
        return settings
    }()

    static func sighting(_ cluster: ClusterState?, _ status: PostgresStatus, me: String = "n1", at now: Duration = t0,
                         files: Sighting.DataFiles = .present(role: .primary, systemID: "7000"), failedAtOnce: Bool = false,
                         settings: EngineSettings = settings, wallClock: Double = 1_800_000_000) -> Sighting {
        Sighting(now: now, wallClock: wallClock, me: MemberIdentity(name: me), settings: settings,
                 store: cluster.map(StoreView.reachable) ?? .unreachable, postgres: status, queryFailedAtOnce: failedAtOnce,
                 dataDirectory: files)
    }

    static let runningPrimary = PostgresStatus(state: .running, role: .primary, timeline: 1, walPosition: 5000, systemIdentifier: "7000")
    static let streamingPrimary: PostgresStatus = {
        var status = runningPrimary
        status.replication = [StandbyConnection(applicationName: "n2", clientAddress: nil, state: "streaming", syncState: "async",
                                                sentLSN: 5000, flushLSN: 5000, replayLSN: 5000)]
        return status
    }()
    static let runningReplica = PostgresStatus(state: .running, role: .replica, timeline: 1, walPosition: 5000,
                                               replicationState: "streaming", systemIdentifier: "7000")

    /// Runs a cycle to its end, answering every step with `answer` (by default `.done`, and a
    /// timeline check within the leader's history); the steps handed out, and the time of the
    /// next cycle.
    static func run(_ machine: inout HAMachine, from first: Next, at now: Duration = t0,
                    answer: (Action) -> ActionResult = { if case .checkTimeline = $0 { .timelineCheck(.withinLeaderHistory) } else { .done } },
                    look: (() -> Sighting)? = nil,
                    inspect: (HAMachine, Action) -> Void = { _, _ in }) -> (steps: [Action], decisions: [Decision], next: Duration?) {
        var steps: [Action] = []
        var decisions: [Decision] = []
        var next = first
        for _ in 0..<50 {
            if let decided = next.decided { decisions.append(decided) }
            switch next.step {
            case .observe:
                guard let look else { return (steps, decisions, nil) }
                next = machine.observed(look())
            case let .perform(action):
                steps.append(action)
                inspect(machine, action)
                next = machine.completed(action, answer(action), at: now)
            case let .finish(at):
                return (steps, decisions, at)
            }
        }
        Issue.record("the cycle did not end")
        return (steps, decisions, nil)
    }

    @Test func aLeaderCycleRenewsWritesStatusAndPublishes() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster(optime: 4000)
        cluster.leader = LeaderLock(name: "n1", version: 3)
        var settings = Self.settings
        settings.slots = SlotSettings()
        let (steps, decisions, next) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary, settings: settings)),
                                                answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        #expect(decisions.map(\.reason) == [.leaderWithLock])
        // Its replicas' slots are created; the status names its own slot at its WAL position
        // (the next primary keeps it) and retains it as a member's.
        #expect(steps == [.renewLeader, .fence(.arm(until: Self.t0 + .seconds(28), watchdog: nil)),
                          .changeSlot(.create("n2")), .changeSlot(.create("n3")),
                          .writeStatus(StatusRecord(optime: 5000, slots: [("n1", 5000)], retainSlots: ["n1"])),
                          .publishMember(extendingLease: true)])
        #expect(next == Self.t0 + .seconds(10), "the next cycle a loop_wait after this one began")
        #expect(machine.lock.lastConfirmed == Self.t0 && machine.leaderUntil == Self.t0 + .seconds(30))
    }

    @Test func aRenewalWithoutAnAnswerLosesTheLockAndTheMemberWriteDoesNotExtendTheLease() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster()
        let (steps, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                                     answer: { $0 == .renewLeader ? .noAnswer("timed out") : .done },
                                     look: { Self.sighting(cluster, Self.runningPrimary, at: Self.t0 + .seconds(4)) })
        // Decided again at once: the lock is known lost, so the primary demotes (immediately, no key to release).
        #expect(machine.lock.lost == false, "the demotion resets the lock")
        #expect(steps.prefix(3) == [.renewLeader, .stopPostgres(.immediate, timeout: HAEngine.immediateStopBudget),
                                   .startPostgres(.replica(following: nil))])
        #expect(steps.last == .publishMember(extendingLease: false))
    }

    /// Callbacks go out right after the step that calls for them, and only those the
    /// configuration names: a switchover's demotion stops the primary (on_stop, as primary) and
    /// starts it as a replica (on_role_change, not on_start).
    @Test func aDemotionCallsOnStopThenOnRoleChange() {
        var machine = HAMachine(callbacks: [.onStop, .onRoleChange])
        let cluster = HAEngineTests.cluster(failover: FailoverRequest(leader: "n1", member: "n2"))
        let (steps, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.streamingPrimary)),
                                     answer: { action in
                                         switch action {
                                         case .renewLeader: .confirmed(sentAt: Self.t0)
                                         case .askPeers: .peers([PeerStatus(name: "n2", reachable: true, walPosition: 5000)])
                                         default: .done
                                         }
                                     },
                                     look: { Self.sighting(cluster, Self.streamingPrimary) })
        let stop = steps.firstIndex { if case .stopPostgres = $0 { true } else { false } }
        let start = steps.firstIndex(of: .startPostgres(.replica(following: nil)))
        #expect(stop.map { steps[$0 + 1] } == .runCallback(Callback(.onStop, role: "primary")), "\(steps)")
        #expect(start.map { steps[$0 + 1] } == .runCallback(Callback(.onRoleChange, role: "replica")), "\(steps)")
        #expect(steps.filter { if case .runCallback = $0 { true } else { false } }.count == 2)
        // Without scripts, no callback steps at all.
        var plain = HAMachine()
        let (quiet, _, _) = Self.run(&plain, from: plain.observed(Self.sighting(cluster, Self.streamingPrimary)),
                                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done },
                                     look: { Self.sighting(cluster, Self.streamingPrimary) })
        #expect(!quiet.contains { if case .runCallback = $0 { true } else { false } })
    }

    /// The machine remembers that its data directory ran as a primary until a check or a rejoin
    /// cleared it against a leader's timeline: a primary demoted while the store was out has its
    /// WAL checked; past the branch point it rejoins the new leader (stop, rewind, start), and
    /// once rejoined a later change of leader is a re-point again.
    @Test func aDemotedPrimaryIsCheckedRejoinsTheNextLeaderAndThenFollowsByReload() {
        var machine = HAMachine()
        _ = Self.run(&machine, from: machine.observed(Self.sighting(nil, Self.runningPrimary)))
        let demotedReplica = PostgresStatus(state: .running, role: .replica, timeline: 1, walPosition: 5000,
                                            replicationState: "in archive recovery", systemIdentifier: "7000")
        let files = Sighting.DataFiles.present(role: .replica, systemID: "7000")
        let byN2 = HAEngineTests.cluster(leader: "n2", leaderTimeline: 2)
        let (rejoin, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(byN2, demotedReplica, at: Self.t0 + .seconds(30),
                                                                                              files: files)),
                                              answer: { $0 == .checkTimeline(leader: "n2") ? .timelineCheck(.needsStoppedCheck("past it")) : .done })
        #expect(rejoin.prefix(2) == [.checkTimeline(leader: "n2"), .rejoin(leader: "n2")], "\(rejoin)")
        #expect(decisions.last?.summary == "rejoining new leader (n2): past it")
        let byN3 = HAEngineTests.cluster(leader: "n3", leaderTimeline: 3)
        let (follow, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(byN3, Self.runningReplica, at: Self.t0 + .seconds(60),
                                                                                      files: files)))
        #expect(follow.first == .follow(leader: "n3"), "\(follow)")
    }

    /// A check within the leader's history re-points the replica as it runs and clears the
    /// suspicion; a leader that cannot tell yet gets a re-point too, and the next change of
    /// leader is checked again.
    @Test func aTimelineCheckWithinTheHistoryFollowsAndOneTheLeaderCannotAnswerIsRepeated() {
        let files = Sighting.DataFiles.present(role: .replica, systemID: "7000")
        var machine = HAMachine()
        let (unknown, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(leader: "n2"), Self.runningReplica,
                                                                                      files: files)),
                                       answer: { if case .checkTimeline = $0 { .timelineCheck(.leaderCannotTell("in recovery")) } else { .done } })
        #expect(unknown.prefix(2) == [.checkTimeline(leader: "n2"), .follow(leader: "n2")], "\(unknown)")
        let (within, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(leader: "n3"), Self.runningReplica,
                                                                                     at: Self.t0 + .seconds(30), files: files)),
)
        #expect(within.prefix(2) == [.checkTimeline(leader: "n3"), .follow(leader: "n3")], "\(within)")
        let (after, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(leader: "n2"), Self.runningReplica,
                                                                                    at: Self.t0 + .seconds(60), files: files)))
        #expect(after.first == .follow(leader: "n2"), "checked once within the history, no longer suspect: \(after)")
    }

    @Test func aPromotionCallsOnRoleChangeAsPrimary() {
        let machine = HAMachine(callbacks: Set(Callback.Event.allCases))
        #expect(machine.callback(after: .promote, .done) == Callback(.onRoleChange, role: "primary"))
        #expect(machine.callback(after: .promote, .failed("no")) == nil)
        #expect(machine.callback(after: .startPostgres(.replica(following: "n1")), .done) == Callback(.onStart, role: "replica"))
        #expect(machine.callback(after: .follow(leader: "n1"), .done) == nil, "a re-pointed replica changes no role")
        #expect(machine.callback(after: .bootstrap, .done) == nil && machine.callback(after: .createReplica(from: "n1"), .done) == nil)
        #expect(machine.reloadCallback == Callback(.onReload, role: "replica"))
    }

    @Test func aSwitchoverDemotionEscalatesUntilPostgresIsGone() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(failover: FailoverRequest(leader: "n1", member: "n2"))
        var routableWhileStopping = false
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.streamingPrimary)),
                                             answer: { action in
                                                 switch action {
                                                 case .renewLeader:
                                                     return .confirmed(sentAt: Self.t0)
                                                 case .askPeers:
                                                     return .peers([PeerStatus(name: "n2", reachable: true, walPosition: 5000)])
                                                 case .stopPostgres:
                                                     return .failed("timed out")
                                                 default:
                                                     return .done
                                                 }
                                             },
                                             look: { Self.sighting(cluster, Self.streamingPrimary) },
                                             inspect: { machine, action in
                                                 if case .stopPostgres = action, machine.leaderUntil != nil { routableWhileStopping = true }
                                             })
        #expect(decisions.map(\.reason) == [.probingForSwitchover, .switchoverDemoting])
        let armed = Action.fence(.arm(until: Self.t0 + .seconds(28), watchdog: nil))
        #expect(steps == [.renewLeader, armed, .askPeers([HAEngineTests.member("n2"), HAEngineTests.member("n3")]), .renewLeader,
                          armed, .stopPostgres(.fast, timeout: .seconds(30)), .stopPostgres(.immediate, timeout: .seconds(5)),
                          .killPostmaster, .releaseLeader, .startPostgres(.replica(following: nil)), .fence(.disarm),
                          .refreshPostgres, .publishMember(extendingLease: false)])
        #expect(!routableWhileStopping, "not routable while it stops")
        #expect(machine.lock == LockState() && machine.following == nil)
    }

    @Test func aDemotionThatCannotStopPostgresKeepsTheKeyToLapse() {
        var machine = HAMachine()
        // Someone else leads: demote at once (immediate-nolock).
        let cluster = HAEngineTests.cluster(leader: "n2")
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                                             answer: { action in
                                                 switch action {
                                                 case .stopPostgres, .killPostmaster: .failed("still there")
                                                 default: .done
                                                 }
                                             })
        #expect(steps == [.stopPostgres(.immediate, timeout: HAEngine.immediateStopBudget), .killPostmaster,
                          .publishMember(extendingLease: true)])
        #expect(decisions.map(\.reason) == [.demotedNotLeader, .demotionFailed])
    }

    @Test func aFailedBootstrapLetsAnotherMemberTryAndExits() {
        var machine = HAMachine()
        let cluster = ClusterState(members: [])
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, PostgresStatus(state: .uninitialized),
                                                                                                files: .empty)),
                                             answer: { $0 == .bootstrap ? .failed("initdb: disk full") : .done })
        // Published first (the store does not list it yet); nothing after the exit.
        #expect(steps == [.publishMember(extendingLease: true), .claimInitialization, .bootstrap, .cancelInitialization,
                          .exit("failed to bootstrap the cluster: initdb: disk full")])
        #expect(decisions.map(\.reason) == [.bootstrapping, .bootstrapFailed])
    }

    @Test func aPrimaryThatFailsToStartGivesTheKeyUp() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        let stopped = PostgresStatus(state: .stopped)
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, stopped)),
                                             answer: { action in
                                                 switch action {
                                                 case .renewLeader: .confirmed(sentAt: Self.t0)
                                                 case .startPostgres: .failed("could not bind")
                                                 default: .done
                                                 }
                                             })
        // The view still names this member leader and the lock is gone: the write extends nothing.
        #expect(steps == [.renewLeader, .fence(.arm(until: Self.t0 + .seconds(28), watchdog: nil)), .startPostgres(.primary), .releaseLeader,
                          .fence(.disarm), .publishMember(extendingLease: false)])
        #expect(decisions.map(\.reason) == [.restartingPrimary, .primaryStartFailed])
        #expect(machine.lock == LockState())
    }

    @Test func aPromotionNeedsALockConfirmedNow() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        // The renewal was sent 40 s ago (a stalled cycle): the lease may be over.
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningReplica,
                                                                                                files: .present(role: .replica, systemID: "7000"))),
                                             answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0 - .seconds(40)) : .done })
        #expect(!steps.contains(.promote))
        #expect(decisions.map(\.reason) == [.promotingWithLock, .lockUnconfirmed])
    }

    @Test func aSilentServerKeepsTheRoleAndSystemIDItLastHad() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(leader: "n2")
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningReplica,
                                                                    files: .present(role: .replica, systemID: nil))))
        let silent = PostgresStatus(state: .running)
        _ = machine.observed(Self.sighting(cluster, silent, at: Self.t0 + .seconds(10), files: .present(role: .primary, systemID: nil)))
        #expect(machine.observation?.postgres.status.role == .replica)
        #expect(machine.observation?.postgres.dataDirectory == .initialized(systemID: "7000"))
        #expect(machine.observation?.postgres.answering == false)
    }

    @Test func aQueryThatFailedAtOnceIsAskedAgainOnce() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(leader: "n2")
        let silent = Self.sighting(cluster, PostgresStatus(state: .running), failedAtOnce: true)
        #expect(machine.observed(silent).step == .observe)
        #expect(machine.observed(silent).step != .observe, "once only")
    }

    @Test func aLockSomeoneElseHoldsIsForgotten() {
        var machine = HAMachine()
        var mine = HAEngineTests.cluster()
        mine.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(mine, Self.runningPrimary)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        #expect(machine.lock.lastConfirmed != nil)
        _ = machine.observed(Self.sighting(HAEngineTests.cluster(leader: "n2"), Self.runningPrimary, at: Self.t0 + .seconds(10)))
        #expect(machine.lock == LockState())
    }

    @Test func aCycleThatChangedPostgresIsFollowedSoon() {
        var machine = HAMachine()
        // A replica this agent has not pointed anywhere yet is pointed at the leader, after its WAL
        // is checked once (the agent just started: what its directory did before is unknown).
        let (steps, _, next) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(),
                                                                                         Self.runningReplica, me: "n2",
                                                                                         files: .present(role: .replica, systemID: "7000"))))
        #expect(steps == [.checkTimeline(leader: "n1"), .follow(leader: "n1"), .refreshPostgres, .publishMember(extendingLease: true)])
        #expect(next == Self.t0 + .seconds(2))
        #expect(machine.following == "n1")
    }

    @Test func aLostRaceIsDecidedAgainAndAStoreThatDidNotAnswerCountsAsUnreachable() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(leader: nil)
        var looks = 0
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                                             answer: { action in
                                                 switch action {
                                                 case .askPeers: .peers([])
                                                 case .acquireLeader: .noAnswer("lost after commit")
                                                 default: .done
                                                 }
                                             },
                                             look: {
                                                 looks += 1
                                                 return Self.sighting(cluster, Self.runningPrimary, at: Self.t0 + .seconds(1))
                                             })
        #expect(looks == 2, "once with the peers' answers, once after the race the store did not answer")
        #expect(decisions.map(\.reason) == [.racing, .reacquiredLock, .demotedStoreUnreachable])
        #expect(steps.contains(.acquireLeader) && steps.contains(.stopPostgres(.fast, timeout: .seconds(30))))
        #expect(!steps.contains(.releaseLeader), "offline: the key is left to lapse")
    }

    @Test func aPromotionIsRecordedInTheHistoryInTheSameCycle() {
        var machine = HAMachine()
        let cluster = HAEngineTests.cluster(leader: nil, history: [])
        let replica = Self.sighting(cluster, Self.runningReplica, files: .present(role: .replica, systemID: "7000"))
        var promoted = Self.runningPrimary
        promoted.timeline = 2
        let (steps, _, _) = Self.run(&machine, from: machine.observed(replica),
                                     answer: { action in
                                         switch action {
                                         case .askPeers: .peers([])
                                         case .acquireLeader: .confirmed(sentAt: Self.t0)
                                         case .refreshPostgres: .postgres(promoted)
                                         case .readTimelineSwitch: .timelineSwitch(.init(parentTimeline: 1, switchpoint: 4096))
                                         default: .done
                                         }
                                     },
                                     look: { replica })
        #expect(steps.contains(.readTimelineSwitch(timeline: 2)))
        #expect(steps.contains { if case .writeHistory = $0 { true } else { false } })
    }

    @Test func historyRecordsThePromotionOnce() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster(history: [])
        cluster.leader = LeaderLock(name: "n1", version: 3)
        var primary = Self.runningPrimary
        primary.timeline = 2
        let (steps, _, _) = Self.run(&machine, from: machine.observed(Self.sighting(cluster, primary, wallClock: 1_800_000_000.5)),
                                     answer: { action in
                                         switch action {
                                         case .renewLeader: .confirmed(sentAt: Self.t0)
                                         case .readTimelineSwitch: .timelineSwitch(.init(parentTimeline: 1, switchpoint: 4096))
                                         default: .done
                                         }
                                     })
        let event = TimelineEvent(timeline: 1, lsn: 4096, reason: "no recovery target specified",
                                  timestamp: "2027-01-15T08:00:00.500+00:00", newLeader: "n1")
        #expect(steps.contains(.writeHistory([event])))
    }

    @Test func shutdownStopsReleasesAndPublishesWithoutExtending() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        let (steps, _, _) = Self.run(&machine, from: machine.shutdown(at: Self.t0),
                                     answer: { $0 == .stopPostgres(.fast, timeout: .seconds(60)) ? .failed("timed out") : .done })
        #expect(steps == [.stopPostgres(.fast, timeout: .seconds(60)), .stopPostgres(.immediate, timeout: .seconds(10)),
                          .fence(.disarm), .releaseLeader, .refreshPostgres, .publishMember(extendingLease: false)])
    }

    /// Patroni applies `primary_stop_timeout` only in synchronous mode and reads 0 as unset.
    @Test(arguments: [(SyncSettings.Mode.priority, 5, 5), (.quorum, 5, 5), (.off, 5, 60), (.priority, 0, 60), (.priority, 90, 90)])
    func primaryStopTimeoutBoundsTheShutdownOnlyInSynchronousMode(mode: SyncSettings.Mode, configured: Int, expected: Int) {
        var machine = HAMachine()
        var settings = Self.settings
        settings.sync = SyncSettings(mode: mode)
        settings = EngineSettings(timings: settings.timings, sync: settings.sync, primaryStopTimeout: .seconds(configured))
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary, settings: settings)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        let (steps, _, _) = Self.run(&machine, from: machine.shutdown(at: Self.t0), answer: { _ in .done })
        #expect(steps.first == .stopPostgres(.fast, timeout: .seconds(expected)))
    }

    /// A demotion's fast stop is bounded by the lease, and by `primary_stop_timeout` when that
    /// applies (synchronous mode), whichever is shorter.
    @Test(arguments: [(SyncSettings.Mode.priority, 5, 5), (.off, 5, 30), (.priority, 90, 30)])
    func primaryStopTimeoutShortensADemotionInSynchronousMode(mode: SyncSettings.Mode, configured: Int, expected: Int) {
        var machine = HAMachine()
        let settings = EngineSettings(timings: Self.settings.timings, sync: SyncSettings(mode: mode),
                                      primaryStopTimeout: .seconds(configured))
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary, settings: settings)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        // Within the lease's deadline (past it the machine stops PostgreSQL the same way, for that reason).
        let later = Self.t0 + .seconds(20)
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(nil, Self.runningPrimary, at: later,
                                                                                          settings: settings)),
                                             at: later, answer: { _ in .done })
        #expect(decisions.map(\.reason).contains(.demotedStoreUnreachable))
        #expect(steps.first == .stopPostgres(.fast, timeout: .seconds(expected)))
    }

    @Test func shutdownInPauseLeavesEverything() {
        var machine = HAMachine()
        var paused = Self.settings
        paused.paused = true
        _ = machine.observed(Self.sighting(HAEngineTests.cluster(), Self.runningPrimary, settings: paused))
        let (steps, decisions, _) = Self.run(&machine, from: machine.shutdown(at: Self.t0))
        #expect(steps.isEmpty && decisions.map(\.reason) == [.shuttingDown])
    }

    @Test func restartRequestsAreCheckedAndScheduledOnesComeDue() {
        var machine = HAMachine()
        let facts = NodeFacts(postgres: Self.runningPrimary, busyWith: nil, role: "primary", cluster: HAEngineTests.cluster())
        #expect(machine.requested(.restart(RestartRequest(role: "replica")), me: "n1", facts: facts)
            == .answer(status: 503, message: "restart conditions are not satisfied"))
        #expect(machine.requested(.restart(RestartRequest(onlyIfPending: true)), me: "n1", facts: facts)
            == .answer(status: 503, message: "restart conditions are not satisfied"))
        #expect(machine.requested(.restart(RestartRequest()), me: "n1", facts: facts) == .perform(.restartPostgres, answerFirst: nil))
        var old = facts
        old.postgres.serverVersion = 180006
        // A version too large to compute is above the running one, and does not trap.
        #expect(machine.requested(.restart(RestartRequest(postgresVersion: "999999999999999")), me: "n1", facts: old)
            == .perform(.restartPostgres, answerFirst: nil))
        #expect(machine.requested(.restart(RestartRequest(postgresVersion: "18.5")), me: "n1", facts: old)
            == .answer(status: 503, message: "restart conditions are not satisfied"))
        #expect(machine.requested(.scheduleRestart(RestartRequest(), at: 2000), me: "n1", facts: facts)
            == .answer(status: 202, message: "Restart scheduled"))
        #expect(machine.requested(.scheduleRestart(RestartRequest(), at: 3000), me: "n1", facts: facts)
            == .answer(status: 409, message: "Another restart is already scheduled"))
        #expect(machine.dueRestart(wallClock: 1999) == nil)
        #expect(machine.dueRestart(wallClock: 2000) == RestartRequest())
        #expect(machine.scheduledRestart == nil)
        #expect(machine.requested(.cancelScheduledRestart, me: "n1", facts: facts)
            == .answer(status: 404, message: "no restarts are scheduled"))
    }

    @Test func reinitializeNeedsALeaderThatIsNotMe() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.members = cluster.members.map { member in
            var m = member
            m.record.connURL = "postgres://127.0.0.\(member.name.dropFirst()):5432/postgres"
            return m
        }
        let facts = NodeFacts(postgres: Self.runningReplica, busyWith: nil, role: "replica", cluster: cluster)
        #expect(machine.requested(.reinitialize(fromLeader: true), me: "n1", facts: facts)
            == .answer(status: 503, message: "Cluster has no leader, can not reinitialize"))
        #expect(machine.requested(.reinitialize(fromLeader: true), me: "n2", facts: facts)
            == .perform(.reinitialize(from: "n1"), answerFirst: (200, "reinitialize started")))
        _ = machine.requestCompleted(.reinitialize(from: "n1"), .done, at: Self.t0)
        #expect(machine.following == "n1")
    }
}

extension HAMachineTests {
    /// A primary whose PostgreSQL stops answering while the store is down is still demoted,
    /// also when it became primary in the cycle before (its role is the promoted one).
    @Test func aJustPromotedPrimaryThatFallsSilentIsStillAPrimary() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningReplica, files: .present(role: .replica, systemID: "7000"))),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        _ = machine.observed(Self.sighting(nil, PostgresStatus(state: .running), at: Self.t0 + .seconds(2),
                                           files: .present(role: .replica, systemID: "7000")))
        #expect(machine.observation?.postgres.status.role == .primary)
    }

    @Test func aSilentPrimaryCutOffFromTheStoreIsDemoted() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        let (steps, decisions, _) = Self.run(&machine, from: machine.observed(Self.sighting(nil, PostgresStatus(state: .running),
                                                                                                at: Self.t0 + .seconds(2))))
        #expect(decisions.map(\.reason) == [.demotedStoreUnreachable])
        #expect(steps.first == .stopPostgres(.fast, timeout: .seconds(30)))
    }
}

extension HAMachineTests {
    /// SIGTERM: not routable from the first step; the key goes only once PostgreSQL is gone.
    @Test func shutdownKeepsTheKeyWhenPostgresWillNotGo() {
        var machine = HAMachine()
        var cluster = HAEngineTests.cluster()
        cluster.leader = LeaderLock(name: "n1", version: 3)
        _ = Self.run(&machine, from: machine.observed(Self.sighting(cluster, Self.runningPrimary)),
                     answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0) : .done })
        var routable = false
        let (steps, _, _) = Self.run(&machine, from: machine.shutdown(at: Self.t0),
                                     answer: { action in
                                         switch action {
                                         case .stopPostgres, .killPostmaster: .failed("still there")
                                         default: .done
                                         }
                                     },
                                     inspect: { machine, _ in routable = routable || machine.leaderUntil != nil })
        #expect(steps == [.stopPostgres(.fast, timeout: .seconds(60)), .stopPostgres(.immediate, timeout: .seconds(10)),
                          .killPostmaster, .refreshPostgres, .publishMember(extendingLease: false)])
        #expect(!routable)
    }

    /// A look that waited out its query deadline does not push the next cycle back.
    @Test func aCycleIsTimedFromWhenItsLookBegan() {
        var machine = HAMachine()
        var late = Self.sighting(HAEngineTests.cluster(), Self.runningPrimary, at: Self.t0 + .seconds(5))
        late.began = Self.t0
        let (_, _, next) = Self.run(&machine, from: machine.observed(late), at: Self.t0 + .seconds(5),
                                    answer: { $0 == .renewLeader ? .confirmed(sentAt: Self.t0 + .seconds(5)) : .done })
        #expect(next == Self.t0 + .seconds(10))
    }
}

extension HAMachineTests {
    /// A replica pointed at its leader that does not stream yet is looked at again soon, so the
    /// REST API says "streaming" when it does; once it streams, the loop keeps loop_wait.
    @Test func aReplicaNotYetStreamingIsLookedAtAgainSoon() {
        var machine = HAMachine()
        let files = Sighting.DataFiles.present(role: .replica, systemID: "7000")
        _ = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(), Self.runningReplica, me: "n2", files: files)))
        #expect(machine.following == "n1")
        var notYet = Self.runningReplica
        notYet.replicationState = "in archive recovery"
        let later = Self.t0 + .seconds(2)
        let (_, _, soon) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(), notYet, me: "n2", at: later,
                                                                                    files: files)), at: later)
        #expect(soon == later + .seconds(2))
        let (_, _, usual) = Self.run(&machine, from: machine.observed(Self.sighting(HAEngineTests.cluster(), Self.runningReplica, me: "n2",
                                                                                     at: later, files: files)), at: later)
        #expect(usual == later + .seconds(10))
    }
}
