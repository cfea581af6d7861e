import Foundation
import VigilAPI
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

extension HALoop {
    /// A slot made or dropped is news to an operator (it holds WAL, or no longer does); a slot
    /// moved forward is routine.
    func logSlotChange(_ change: SlotChange) {
        switch change {
        case let .create(name): logger.info("created the replication slot \(name)")
        case let .drop(name): logger.notice("dropped the replication slot \(name): no member or setting needs it")
        case let .advance(name, lsn): logger.debug("advanced the replication slot \(name) to \(LSN(UInt64(max(0, lsn))))")
        }
    }

    /// Carries out one step and says how it went; what follows is the machine's to decide.
    func perform(_ action: Action) async -> ActionResult {
        do {
            switch action {
            case .claimInitialization:
                return try await store.initialize(systemID: "", create: true) ? .done : .refused("another member initializes the cluster")
            case .bootstrap:
                return await bootstrap()
            case .cancelInitialization:
                try await store.cancelInitialization()
            case .recordSystemID:
                if let sysid = try? await instance.systemIdentifier() { _ = try await store.initialize(systemID: sysid, create: false) }
            case .writeInitialConfig:
                try await writeInitialConfig()
            case .acquireLeader:
                let sent = now
                guard try await store.acquireLeader() else {
                    logger.info("the leader key was taken by another member first")
                    return .refused("the leader key was taken by another member first")
                }
                logger.notice("acquired the leader key")
                return .confirmed(sentAt: sent)
            case .renewLeader:
                return await renewLeader()
            case .releaseLeader:
                guard try await store.releaseLeader() else { return .refused("the leader key was not ours") }
                logger.notice("released the leader key")
            case let .createReplica(from):
                return await clone(from: from, replacing: false)
            case let .reinitialize(from):
                return await clone(from: from, replacing: true)
            case let .startPostgres(role):
                return await startPostgres(role)
            case let .follow(leader):
                return await follow(leader)
            case let .rejoin(leader):
                return await rejoin(leader)
            case let .checkTimeline(leader):
                guard let upstream = address(of: leader) else { return .failed("\(leader) publishes no connection address") }
                return .timelineCheck(await instance.checkTimeline(against: upstream))
            case .promote:
                return await promote()
            case let .stopPostgres(mode, timeout):
                return await stop(mode, timeout: timeout)
            case .killPostmaster:
                logger.error("killing the postmaster and every process it started")
                return await instance.killPostmaster() ? .done : .failed("processes of PostgreSQL are still there")
            case .restartPostgres:
                return await restartPostgres()
            case let .askPeers(members):
                return .peers(await askPeers(members))
            case let .changeSlot(change):
                if try await instance.changeSlot(change) { logSlotChange(change) }
            case let .writeStatus(record):
                try await store.setStatus(record)
            case let .readTimelineSwitch(timeline):
                return .timelineSwitch(await instance.currentTimelineSwitch(timeline: timeline))
            case let .writeHistory(history):
                try await store.setHistory(history)
            case let .clearFailover(version):
                _ = try await store.setFailover(FailoverRequest(), expectedVersion: version)
            case let .publishMember(extendingLease):
                await publishMember(extendingLease: extendingLease)
            case .refreshPostgres:
                let status = await instance.observe(timeout: queryTimeoutBeforeDeadline)
                postgresAnswering = status.state != .running || status.role != nil
                // A silent server keeps the role the last look gave it (the machine's memory).
                if postgresAnswering { lastStatus = status } else { lastStatus.state = status.state }
                return .postgres(status)
            case let .runCallback(callback):
                await callbacks.run(callback)
            case let .writeSync(state, expected):
                guard let version = try await store.setSync(state, expectedVersion: expected) else {
                    logger.info("Synchronous replication key updated by someone else")
                    return .refused("the sync key changed meanwhile")
                }
                logger.notice("\(Self.describe(state))")
                return .syncWritten(version: version)
            case let .releaseSync(within):
                await releaseSync(within: within)
            case let .setSyncStandbyNames(setting):
                try await instance.setSyncStandbyNames(setting)
                logSyncNames(setting)
            case let .fence(order):
                return try await applyFence(order)
            case let .exit(reason):
                fatal = reason
            case .probePeers, .demote, .updateStatus, .recordHistory, .manageSync, .prepareSync:
                // The machine hands out the steps these stand for, never these.
                logger.error("\(action.phrase) is not a step the shell carries out")
                return .failed("not a step")
            }
            return .done
        } catch let error as StoreError {
            logger.error("\(action.phrase) failed: \(error)")
            return .noAnswer("\(error)")
        } catch {
            logger.error("\(action.phrase) failed: \(error)")
            return .failed("\(error)")
        }
    }

    /// Publishes nosync and waits (polling every 2 s, at most `within`) until the primary no
    /// longer lists this member as synchronous. Only a hint: a store that does not answer ends the wait.
    func releaseSync(within: Duration) async {
        releasingSync = true
        await publishMember(extendingLease: true)
        let deadline = now + within
        while true {
            guard let cluster = try? await store.readCluster() else {
                logger.warning("Could not get cluster state, skipping synchronous standby disable")
                return
            }
            if !cluster.listsAsSynchronousStandby(me) { return }
            if now >= deadline {
                logger.warning("the primary did not release this member from synchronous standby within \(within); going ahead")
                return
            }
            logger.info("Waiting for primary to release us from synchronous standby")
            try? await Task.sleep(for: .seconds(2))
        }
    }

    /// Arms the fence with the machine's deadline (its time turned into the host's monotonic
    /// clock) and the watchdog it asks for, or disarms it; says when it fired since it was last
    /// told anything, and when the watchdog could not be started.
    func applyFence(_ order: FenceOrder) async throws(FenceError) -> ActionResult {
        let previous: FenceWire.State
        var watchdog: FenceWire.WatchdogAnswer?
        do {
            switch order {
            case let .arm(until, timeout):
                let config = setup.configuration.watchdog
                let request = timeout.map { FenceWire.WatchdogRequest(timeout: $0, driver: config.driver, device: config.device) }
                let answer = try await fence.arm(remaining: until - now, watchdog: request)
                previous = answer.state
                watchdog = answer.watchdog
                let deadline = clock.instant(until)
                box.update { $0.fence = .armed(until: deadline) }
            case .disarm:
                previous = try await fence.disarm()
                box.update { $0.fence = .disarmed }
                // A device that ran is stopped with the fence; a failure stays shown until an arm says otherwise.
                if case .running = box.snapshot().watchdog {
                    logger.notice("watchdog stopped")
                    box.update { $0.watchdog = .off }
                }
            }
        } catch {
            box.update { $0.fence = .failing(error.description) }
            throw error
        }
        if case let .fenced(pid, _) = previous {
            logger.error("the fence stopped PostgreSQL (pid \(pid)): the leader key was not renewed in time")
        }
        return watchdog.map(reportWatchdog) ?? .done
    }

    /// Logs a change of the watchdog's state (a missing device in automatic mode quietly, as
    /// Patroni does) and shows it in /patroni; the machine hears of a failure as the arm's result.
    func reportWatchdog(_ answer: FenceWire.WatchdogAnswer) -> ActionResult {
        let report: WatchdogReport = switch answer {
        case .none: .off
        case let .running(timeout): .running(timeout: timeout)
        case let .failed(why): .failed(why)
        }
        if report != box.snapshot().watchdog {
            let required = settings.watchdog.mode == .required
            switch answer {
            case let .running(timeout):
                logger.notice("watchdog \(setup.configuration.watchdog.device) activated with a \(timeout) s timeout")
            case let .failed(why):
                if required { logger.error("Configuration requires watchdog, but it could not be activated: \(why)") }
                else { logger.info("no watchdog: \(why)") }
            case .none:
                if case .running = box.snapshot().watchdog { logger.notice("watchdog stopped") }
            }
            box.update { $0.watchdog = report }
        }
        if case let .failed(why) = answer { return .watchdogFailed(why) }
        return .done
    }

    static func describe(_ state: SyncState?) -> String {
        guard let state else { return "Disabled synchronous replication (the sync key is deleted)" }
        let standbys = state.syncStandby.isEmpty ? "none yet" : state.syncStandby.sorted().joined(separator: ", ")
        let quorum = (state.quorum ?? 0) > 0 ? ", quorum \(state.quorum ?? 0)" : ""
        return "sync key: leader \(state.leader ?? "-"), synchronous standbys \(standbys)\(quorum)"
    }

    func logSyncNames(_ setting: SyncNamesSetting) {
        switch setting {
        case .configured:
            logger.notice("synchronous_standby_names is the node's own setting again (synchronous mode is off)")
        case .managed(nil):
            // Non-strict synchronous mode with no standby to wait for: commits no longer wait.
            logger.warning("no synchronous standby available: commits are acknowledged without one until a standby is back (synchronous_mode_strict is off)")
        case let .managed(value?) where value.contains("*"):
            logger.warning("No standbys available! synchronous_standby_names = '\(value)': commits wait until a standby confirms them (synchronous_mode_strict)")
        case let .managed(value?):
            logger.notice("synchronous_standby_names = '\(value)'")
        }
    }

    func renewLeader() async -> ActionResult {
        let sent = now
        do {
            switch try await store.renewLeader() {
            case .held:
                return .confirmed(sentAt: sent)
            case let .lost(reason):
                logger.error("the leader key is no longer ours: \(reason)")
                return .refused(reason)
            }
        } catch {
            logger.error("renewing the leader key failed: \(error)")
            return .noAnswer("\(error)")
        }
    }

    func askPeers(_ members: [Member]) async -> [PeerStatus] {
        let answers = await probe.statuses(of: members)
        let described = answers.map { peer in
            peer.reachable ? "\(peer.name) (\(peer.inRecovery ? "replica" : "primary"), wal \(peer.walPosition))"
                : "\(peer.name) (no answer)"
        }
        logger.info("peers: \(described.joined(separator: ", "))")
        return answers
    }

    // MARK: Data directory

    func bootstrap() async -> ActionResult {
        box.update { $0.busyWith = "initializing new cluster" }
        defer { box.update { $0.busyWith = nil } }
        logger.notice("initializing a new cluster in \(setup.instance.dataDirectory)")
        do {
            _ = try await instance.bootstrapCluster()
            return .done
        } catch {
            logger.error("initializing a new cluster failed: \(error)")
            return .failed("\(error)")
        }
    }

    func writeInitialConfig() async throws(StoreError) {
        let value = setup.configuration.bootstrap.dcsNode?.jsonValue ?? .object([])
        // Create-only: a config someone else wrote meanwhile wins.
        _ = try await store.setConfig(value, expectedVersion: 0)
    }

    /// Copies the data directory from `source` (into an empty one, or replacing the current one)
    /// and starts streaming from it; shown as "creating replica" meanwhile.
    func clone(from source: String, replacing: Bool) async -> ActionResult {
        guard let address = address(of: source) else {
            logger.warning("cannot clone from \(source): it publishes no connection address")
            return .failed("\(source) publishes no connection address")
        }
        box.update { $0.busyWith = "creating replica" }
        defer { box.update { $0.busyWith = nil } }
        logger.notice("\(replacing ? "reinitializing" : "cloning") the data directory from \(source) (\(address.host):\(address.port))")
        do {
            if replacing {
                try await instance.reinitialize(from: address)
            } else {
                try await instance.createReplica(from: address)
            }
            return .done
        } catch {
            logger.error("copying the data directory from \(source) failed: \(error)")
            return .failed("\(error)")
        }
    }

    // MARK: Roles

    func startPostgres(_ role: StartRole) async -> ActionResult {
        do {
            switch role {
            case .primary:
                // Not awaited past a few seconds: a long crash recovery is watched by the next
                // cycles, which renew the key while it lasts (up to primary_start_timeout),
                // rather than by one cycle that renews nothing until it ends.
                try await instance.start(.primary, readyWithin: .seconds(3))
                if await instance.currentState == .starting {
                    logger.notice("PostgreSQL is starting as primary; the next cycles watch it")
                }
            case let .replica(leader):
                try await instance.start(.replica(of: leader.flatMap(address)), readyWithin: nil)
            }
            return .done
        } catch {
            logger.error("starting PostgreSQL failed: \(error)")
            return .failed("\(error)")
        }
    }

    /// Points a running replica at `leader` by a reload.
    func follow(_ leader: String) async -> ActionResult {
        guard let upstream = address(of: leader) else { return .failed("\(leader) publishes no connection address") }
        do {
            try await instance.follow(upstream)
            logger.notice("following \(leader) at \(upstream.host):\(upstream.port)")
            return .done
        } catch {
            logger.error("re-pointing at \(leader) failed: \(error)")
            return .failed("\(error)")
        }
    }

    func rejoin(_ leader: String) async -> ActionResult {
        guard let upstream = address(of: leader) else { return .failed("\(leader) publishes no connection address") }
        do {
            let rewound = try await instance.rejoin(upstream)
            logger.notice(rewound ? "rewound onto \(leader)'s timeline and following it" : "started as a replica of \(leader)")
            return .done
        } catch {
            logger.error("rejoining \(leader) failed: \(error)")
            return .failed("\(error)")
        }
    }

    func promote() async -> ActionResult {
        do {
            // Bounded well inside the lease: the key is renewed only after this returns.
            let wait = Duration.seconds(max(2, settings.timings.ttl / 2))
            if let skipped = try await instance.promote(knownHistory: lastCluster?.history?.value ?? [], timeout: wait) {
                logger.warning("\(skipped)")
            }
            logger.notice("promoted to primary")
            return .done
        } catch {
            logger.error("promotion failed: \(error)")
            return .failed("\(error)")
        }
    }

    func stop(_ mode: StopMode, timeout: Duration) async -> ActionResult {
        logger.notice("stopping PostgreSQL (\(mode.rawValue))")
        do {
            try await instance.stop(mode == .fast ? .fast : .immediate, timeout: timeout)
            return .done
        } catch {
            logger.error("stopping PostgreSQL (\(mode.rawValue)) failed: \(error)")
            return .failed("\(error)")
        }
    }

    func restartPostgres() async -> ActionResult {
        box.update { $0.busyWith = "restarting" }
        defer { box.update { $0.busyWith = nil } }
        logger.notice("restarting PostgreSQL on request")
        do {
            try await instance.restart(mode: .fast)
            // Answered with the new state in place: a client that reads /patroni next sees the restart.
            lastStatus = await instance.observe(timeout: queryTimeout)
            postgresAnswering = lastStatus.state != .running || lastStatus.role != nil
            refreshSnapshot(lastStatus)
            return .done
        } catch {
            logger.error("restart failed: \(error)")
            return .failed("\(error)")
        }
    }

    /// Where a member's PostgreSQL listens, from its member key.
    func address(of member: String) -> HostPort? {
        lastCluster?.member(named: member)?.record.connURL.flatMap(ConnectionURL.hostPort)
    }
}
