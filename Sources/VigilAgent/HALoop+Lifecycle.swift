import Foundation
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres

extension HALoop {
    /// Before the first cycle: wait for the store, refuse to run beside a live agent of the
    /// same name, take the cluster's settings. nil when ready; otherwise why not.
    func preflight() async -> String? {
        var lastComplaint: Duration?
        while !stopRequested {
            switch await preflightOnce() {
            case .ready:
                return nil
            case let .refused(reason):
                return reason
            case let .storeUnavailable(error):
                if lastComplaint.map({ now - $0 >= .seconds(5) }) ?? true {
                    logger.error("waiting on etcd: \(error)")
                    lastComplaint = now
                }
                await wakeup.wait(upTo: .seconds(1))
            }
        }
        return nil
    }

    public enum PreflightOutcome: Sendable, Equatable {
        case ready
        case refused(String)
        case storeUnavailable(String)
    }

    /// One attempt at the preflight (the simulation calls it once per step of its clock).
    public func preflightOnce() async -> PreflightOutcome {
        do {
            let cluster = try await store.readCluster()
            if let other = cluster.member(named: me), let api = other.record.apiURL, await probe.answersLiveness(api) {
                return .refused("another agent named \(me) is running (its REST API \(api) answers); each member needs its own name")
            }
            lastCluster = cluster
            lastClusterReadAt = now
            await apply(cluster)
            await takeOverLeftovers(storeReachable: true)
            return .ready
        } catch {
            // Without the store, pause is not known: an unguarded primary is stopped without
            // waiting (the first cycle starts it again). A second agent on this node was refused
            // before this (its REST port is taken).
            await takeOverLeftovers(storeReachable: false)
            return .storeUnavailable("\(error)")
        }
    }

    /// What a previous agent left on this node: its fence, and a PostgreSQL still running,
    /// kept or stopped as `LeftoverServer` rules. The machine hears of an armed fence; the
    /// first cycle that renews the lock moves its deadline, one without a lock disarms it.
    func takeOverLeftovers(storeReachable: Bool) async {
        let fenceArmed = if case .armed? = await fence.status() { true } else { false }
        // Said once, though a preflight without the store comes here every second.
        if fenceArmed, machine.fence == .disarm {
            logger.notice("the fence of a previous agent is armed; this agent takes it over")
            machine.fenceFoundArmed()
        }
        guard let leftover = await instance.leftoverPostmaster() else { return }
        let paused = storeReachable ? settings.paused : nil
        let why = LeftoverServer.reason(runsAsReplica: leftover.runsAsReplica, fenceArmed: fenceArmed, paused: paused)
        switch LeftoverServer.verdict(runsAsReplica: leftover.runsAsReplica, fenceArmed: fenceArmed, paused: paused) {
        case .keep:
            if let pid = await instance.adoptLeftoverPostmaster() {
                logger.notice("kept PostgreSQL (pid \(pid)) that a previous agent left running (\(why)); this agent goes on from there")
            }
        case .stop:
            if let pid = await instance.stopLeftoverPostmaster(timeout: .seconds(60)) {
                logger.notice("stopped PostgreSQL (pid \(pid)) left running by a previous agent (\(why)); this agent starts it again")
            }
        }
    }

    /// SIGTERM: the machine's shutdown (PostgreSQL stopped, the key given up, the member key
    /// written a last time), carried out; queued requests are refused.
    func shutdown() async {
        for request in pending { request.reply.resume(returning: (503, "the agent is shutting down")) }
        pending.removeAll()
        await drive(machine.shutdown(at: now))
        // In pause PostgreSQL keeps running: the agent's session to it is closed before the
        // process ends (PostgresNIO traps on a connection released while open).
        await instance.closeSession()
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
}

extension HALoop {
    /// SIGHUP (or POST /reload): re-read the file; tags, failover settings and callbacks apply from the
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
            // Callbacks as Patroni reloads them: the new scripts run from the next event on
            // (on_reload below included).
            setup.configuration.postgresql.callbacks = fresh.configuration.postgresql.callbacks
            machine.callbacks = await callbacks.configure(fresh.configuration.postgresql.callbacks)
            // The watchdog as Patroni reloads it: the next arm uses the new device and timeout.
            setup.configuration.watchdog = fresh.configuration.watchdog
            settings.watchdog = fresh.configuration.watchdog.policy
            machine.watchdogSectionChanged()
            await applyParameters(dynamic)
            logger.notice("reloaded \(path)")
            if let callback = machine.reloadCallback { _ = await perform(.runCallback(callback)) }
            wakeup.signal()
        } catch {
            logger.error("reload of \(path) failed, keeping the running configuration: \(error)")
        }
    }
}
