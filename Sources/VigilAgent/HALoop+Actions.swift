import Foundation
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

extension HALoop {
    /// Carries out one action. false: a gate did not pass or the step failed, so the rest of
    /// the decision is dropped and the engine is asked again with what changed.
    func perform(_ action: Action, _ o: Observation) async -> Bool {
        do {
            switch action {
            case .probePeers:
                return true
            case .claimInitialization:
                return try await store.initialize(systemID: "", create: true)
            case .bootstrap:
                return await bootstrap()
            case .recordSystemID:
                let sysid = try? await instance.systemIdentifier()
                if let sysid { _ = try await store.initialize(systemID: sysid, create: false) }
            case .writeInitialConfig:
                try await writeInitialConfig(o)
            case .acquireLeader:
                let sent = now
                guard try await store.acquireLeader() else {
                    logger.info("the leader key was taken by another member first")
                    return false
                }
                lock = LockState(lastConfirmed: sent, leaseTTL: settings.ttl)
                logger.notice("acquired the leader key")
            case .renewLeader:
                let sent = now
                let answer: LeaderRenewal
                do {
                    answer = try await store.renewLeader()
                } catch {
                    // No answer is no proof: a leader that cannot renew steps down (as Patroni does).
                    logger.error("renewing the leader key failed: \(error)")
                    lock.lost = true
                    box.update { $0.leaderUntil = nil }
                    return false
                }
                switch answer {
                case .held:
                    lock = LockState(lastConfirmed: sent, leaseTTL: settings.ttl)
                case let .lost(reason):
                    logger.error("the leader key is no longer ours: \(reason)")
                    lock.lost = true
                    box.update { $0.leaderUntil = nil }
                    return false
                }
            case .releaseLeader:
                lock = LockState()
                box.update { $0.leaderUntil = nil }
                _ = try await store.releaseLeader()
            case let .createReplica(from):
                return await createReplica(from: from, o)
            case let .startPostgres(role):
                return await startPostgres(role, o)
            case let .follow(leader):
                return await follow(leader, o)
            case let .rejoin(leader):
                return await rejoin(leader, o)
            case .promote:
                return await promote(o)
            case let .demote(mode):
                return await demote(mode, o)
            case .updateStatus:
                await updateStatus(o)
            case .recordHistory:
                try await recordHistory(o)
            case let .clearFailover(version):
                _ = try await store.setFailover(FailoverRequest(), expectedVersion: version)
            case let .exit(reason):
                fatal = reason
            }
            return true
        } catch {
            logger.error("\(action): \(error)")
            // A race the store did not answer (acquire, initialize) is no lost race: until the
            // cycle ends the engine is told the store is unreachable, as Patroni treats a DCS error.
            if action.isGate { storeFailedGate = true }
            return false
        }
    }

    // MARK: Data directory

    func bootstrap() async -> Bool {
        box.update { $0.busyWith = "initializing new cluster" }
        defer { box.update { $0.busyWith = nil } }
        logger.notice("initializing a new cluster in \(setup.instance.dataDirectory)")
        do {
            _ = try await instance.bootstrap()
            return true
        } catch {
            // Let another member try: the initialize key goes, and this agent stops (as Patroni does).
            try? await store.cancelInitialization()
            fatal = "failed to bootstrap the cluster: \(error)"
            return false
        }
    }

    func writeInitialConfig(_ o: Observation) async throws(StoreError) {
        guard o.cluster?.config == nil else { return }
        let value = setup.configuration.bootstrap.dcsNode?.jsonValue ?? .object([])
        // Create-only: a config someone else wrote meanwhile wins.
        _ = try await store.setConfig(value, expectedVersion: 0)
    }

    func createReplica(from source: String, _ o: Observation) async -> Bool {
        await clone(from: source, in: o.cluster ?? lastCluster, replacing: false)
    }

    /// Copies the data directory from `source` (into an empty one, or replacing the current one)
    /// and starts streaming from it; shown as "creating replica" meanwhile.
    @discardableResult
    func clone(from source: String, in cluster: ClusterState?, replacing: Bool) async -> Bool {
        guard let address = cluster?.member(named: source)?.record.connURL.flatMap(ConnectionURL.hostPort) else {
            logger.warning("cannot clone from \(source): it publishes no connection address")
            return false
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
            following = source
            return true
        } catch {
            logger.error("copying the data directory from \(source) failed: \(error)")
            return false
        }
    }

    // MARK: Roles

    func startPostgres(_ role: StartRole, _ o: Observation) async -> Bool {
        do {
            switch role {
            case .primary:
                do {
                    // Not awaited past a few seconds: a long crash recovery is watched by the next
                    // cycles, which renew the key while it lasts (up to primary_start_timeout),
                    // rather than by one cycle that renews nothing until it ends.
                    try await instance.start(.primary, readyWithin: .seconds(3))
                    if await instance.currentState == .starting {
                        logger.notice("PostgreSQL is starting as primary; the next cycles watch it")
                    }
                } catch {
                    // A primary that cannot start must not keep the key: let a replica take over.
                    if (try? await store.releaseLeader()) == true {
                        logger.error("removed leader key after trying and failing to start postgres")
                    }
                    lock = LockState()
                    box.update { $0.leaderUntil = nil }
                    throw error
                }
                following = nil
            case let .replica(leader):
                let upstream = leader.flatMap { address(of: $0, o) }
                try await instance.start(.replica(of: upstream))
                following = upstream == nil ? nil : leader
            }
            return true
        } catch {
            logger.error("starting PostgreSQL failed: \(error)")
            return false
        }
    }

    /// Points a running replica at `leader` by a reload.
    func follow(_ leader: String, _ o: Observation) async -> Bool {
        guard let upstream = address(of: leader, o) else { return false }
        do {
            try await instance.follow(upstream)
            logger.notice("following \(leader) at \(upstream.host):\(upstream.port)")
            following = leader
            return true
        } catch {
            logger.error("re-pointing at \(leader) failed: \(error)")
            return false
        }
    }

    func rejoin(_ leader: String, _ o: Observation) async -> Bool {
        guard let upstream = address(of: leader, o) else { return false }
        do {
            let rewound = try await instance.rejoin(upstream)
            logger.notice(rewound ? "rewound onto \(leader)'s timeline and following it" : "started as a replica of \(leader)")
            following = leader
            return true
        } catch {
            logger.error("rejoining \(leader) failed: \(error)")
            return false
        }
    }

    func promote(_ o: Observation) async -> Bool {
        // The lock must be ours right now: acquired (or renewed) earlier in this decision.
        guard lock.isValid(at: now, ttl: settings.ttl) else {
            logger.warning("not promoting: the leader key is not confirmed as ours")
            return false
        }
        do {
            // Bounded well inside the lease: the key is renewed only after this returns.
            let wait = Duration.seconds(max(2, settings.timings.ttl / 2))
            try await instance.promote(knownHistory: o.cluster?.history?.value ?? [], timeout: wait)
            following = nil
            logger.notice("promoted to primary")
            return true
        } catch {
            logger.error("promotion failed: \(error)")
            return false
        }
    }

    func demote(_ mode: DemoteMode, _ o: Observation) async -> Bool {
        // Stop being routable first: health checks read the snapshot.
        box.update { $0.leaderUntil = nil }
        let stop: PostgresInstance.StopMode = mode == .graceful || mode == .offline ? .fast : .immediate
        logger.notice("demoting (\(mode.rawValue))")
        guard await stopForDemotion(stop) else {
            // Still running: the key is kept (and lapses) rather than handed to a second primary.
            logger.critical("PostgreSQL did not stop; the leader key is left to expire")
            return false
        }
        if mode == .graceful || mode == .immediate { _ = try? await store.releaseLeader() }
        if mode != .offline { lock = LockState() }
        following = nil
        do {
            try await instance.start(.replica(of: nil))
        } catch {
            logger.error("restarting as a replica failed: \(error)")
        }
        return true
    }

    /// Stops PostgreSQL for a demotion, harder each time it does not go: the mode asked for,
    /// then immediate, then SIGKILL. true once the postmaster is gone.
    func stopForDemotion(_ mode: PostgresInstance.StopMode) async -> Bool {
        // The engine's demotion budget counts on the immediate stop's.
        do {
            try await instance.stop(mode, timeout: mode == .immediate ? HAEngine.immediateStopBudget : .seconds(max(5, settings.timings.ttl)))
            return true
        } catch {
            logger.error("stopping PostgreSQL (\(mode.rawValue)) to demote failed: \(error)\(mode == .immediate ? "" : "; stopping it immediately")")
        }
        if mode != .immediate {
            do {
                try await instance.stop(.immediate, timeout: .seconds(5))
                return true
            } catch {
                logger.error("immediate stop failed: \(error)")
            }
        }
        logger.error("killing the postmaster")
        return await instance.killPostmaster()
    }

    // MARK: Store records

    func updateStatus(_ o: Observation) async {
        // A promotion earlier in the same decision made this node primary after `o` was taken:
        // its replicas' slots are created now, not a loop_wait later (they cannot stream without).
        let state = await instance.currentState
        let role = await instance.currentRole
        let promoted = state == .running && role == .primary
        guard o.postgres.isRunningPrimary || promoted else { return }
        if setup.instance.useSlots {
            do {
                try await instance.ensureSlots(for: o.clusterMembers.map(\.name))
            } catch {
                logger.warning("creating replication slots failed: \(error)")
            }
        }
        let optime = o.postgres.walPosition
        guard o.cluster?.status?.optime != optime else { return }
        do {
            try await store.setStatus(StatusRecord(optime: optime))
        } catch {
            logger.warning("writing the status key failed: \(error)")
        }
    }

    func recordHistory(_ o: Observation) async throws(StoreError) {
        guard let timeline = o.postgres.status.timeline,
              let entry = await instance.currentTimelineSwitch(timeline: timeline) else { return }
        var history = o.cluster?.history?.value ?? []
        // Recorded as the end of the timeline just below ours, so the store's count of timelines
        // stays equal to the real one even when this one branched off an older timeline.
        let ended = timeline - 1
        guard !history.contains(where: { $0.timeline >= ended }) else { return }
        // Python's isoformat(): "2026-11-27T15:42:10.069+00:00", not "…Z".
        var stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        if stamp.hasSuffix("Z") { stamp = String(stamp.dropLast()) + "+00:00" }
        history.append(TimelineEvent(timeline: ended, lsn: entry.switchpoint,
                                     reason: "no recovery target specified", timestamp: stamp, newLeader: me))
        try await store.setHistory(history)
    }

    /// Where a member's PostgreSQL listens, from its member key.
    func address(of member: String, _ o: Observation) -> HostPort? {
        (o.cluster ?? lastCluster)?.member(named: member)?.record.connURL.flatMap(ConnectionURL.hostPort)
    }
}
