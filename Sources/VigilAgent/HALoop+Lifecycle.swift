import AsyncHTTPClient
import Foundation
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

extension HALoop {
    /// Before the first cycle: wait for the store, refuse to run beside a live agent of the
    /// same name, take the cluster's settings. nil when ready; otherwise why not.
    func preflight() async -> String? {
        var lastComplaint: ContinuousClock.Instant?
        while !stopRequested {
            do {
                let cluster = try await store.readCluster()
                if let other = cluster.member(named: me), let api = other.record.apiURL,
                   await answersLiveness(api) {
                    return "another agent named \(me) is running (its REST API \(api) answers); each member needs its own name"
                }
                lastCluster = cluster
                lastClusterReadAt = clock.now
                await apply(cluster)
                if let pid = await instance.stopLeftoverPostmaster() {
                    logger.notice("stopped PostgreSQL (pid \(pid)) left running by a previous agent; this agent starts it again")
                }
                return nil
            } catch {
                if lastComplaint.map({ clock.now - $0 >= .seconds(5) }) ?? true {
                    logger.error("waiting on etcd: \(error)")
                    lastComplaint = clock.now
                }
                await wakeup.wait(upTo: .seconds(1))
            }
        }
        return nil
    }

    private func answersLiveness(_ apiURL: String) async -> Bool {
        guard let base = URL(string: apiURL), var components = URLComponents(url: base, resolvingAgainstBaseURL: false) else {
            return false
        }
        components.path = "/liveness"
        guard let url = components.url?.absoluteString else { return false }
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let response = try await probe.client.execute(request, timeout: .seconds(3))
            return response.status.code == 200
        } catch {
            return false
        }
    }

    /// SIGTERM: stop PostgreSQL (fast, so replicas get the shutdown checkpoint), then give the
    /// leader key up at once so a replica need not wait for the lease. In pause PostgreSQL and
    /// the key are left as they are.
    func shutdown() async {
        for request in pending { request.reply.resume(returning: (503, "the agent is shutting down")) }
        pending.removeAll()
        if settings.paused {
            logger.notice("shutting down in pause: PostgreSQL keeps running and the leader key stays")
            return
        }
        let held = lock.lastConfirmed != nil && !lock.lost
        box.update { $0.leaderUntil = nil }
        do {
            try await instance.stop(.fast, timeout: .seconds(Int64(dynamic.primaryStopTimeout ?? 60)))
        } catch {
            logger.error("PostgreSQL did not stop in time, stopping it immediately: \(error)")
            try? await instance.stop(.immediate, timeout: .seconds(10))
        }
        if held {
            if (try? await store.releaseLeader()) == true { logger.notice("released the leader key") }
            lock = LockState()
        }
        let status = await instance.observe()
        refreshSnapshot(status)
        if lastCluster != nil {
            var record = MemberRecord(connURL: setup.connURL, apiURL: setup.apiURL, state: "stopped",
                                      role: box.snapshot().role, version: VigilVersion.string)
            if case let .object(entries) = setup.tags, !entries.isEmpty { record.tags = setup.tags }
            // Left to expire with the lease, not extended (a leader key not released stays on it).
            try? await store.publishMember(record, extendingLease: false)
        }
    }

    /// Wakes the loop on the changes it must react to at once. Member and status keys are
    /// left out: every agent writes them every cycle.
    func watchStore() -> Task<Void, Never> {
        let changes = store.changes()
        let wakeup = self.wakeup
        return Task {
            for await change in changes {
                switch change {
                case .resynced:
                    wakeup.signal()
                case let .key(key, _):
                    if ["leader", "failover", "config", "initialize", "sync"].contains(key) { wakeup.signal() }
                }
            }
        }
    }

    /// Sees the postmaster die the moment it does: the health checks stop routing to it and
    /// the loop runs at once.
    func watchPostmaster() -> Task<Void, Never> {
        let exits = instance.unexpectedExits
        let box = self.box
        let wakeup = self.wakeup
        let logger = self.logger
        return Task {
            for await status in exits {
                logger.error("PostgreSQL exited unexpectedly (\(status))")
                box.update { $0.postgres.state = .crashed("\(status)") }
                wakeup.signal()
            }
        }
    }
}

extension HALoop {
    /// SIGHUP (or POST /reload): re-read the file; tags and failover settings apply from the
    /// next cycle, and `postgresql.parameters` are written and reloaded (those that need a
    /// restart reported as pending_restart). Addresses, directories and credentials need a
    /// restart of the agent.
    func requestReload(path: String) async {
        do {
            let loaded = try ConfigSource.load(path: path)
            let fresh = try AgentSetup(loaded.configuration)
            guard fresh.identity.name == setup.identity.name, fresh.layout == setup.layout else {
                logger.error("reload refused: name, scope or namespace changed in \(path); restart the agent to change them")
                return
            }
            setup.identity = fresh.identity
            setup.tags = fresh.tags
            setup.noloadbalance = fresh.noloadbalance
            let tags = fresh.tags
            let noloadbalance = fresh.noloadbalance
            box.update {
                $0.tags = tags
                $0.noloadbalance = noloadbalance
            }
            setup.configuration.postgresql.parameters = fresh.configuration.postgresql.parameters
            await applyParameters(dynamic)
            logger.notice("reloaded \(path)")
            wakeup.signal()
        } catch {
            logger.error("reload of \(path) failed, keeping the running configuration: \(error)")
        }
    }
}
