import Foundation
import VigilAPI
import VigilCore
import VigilPostgres

/// Operator requests from the REST API. Those that touch PostgreSQL wait in a queue that the
/// loop empties at the start of a cycle, so they never run alongside the cycle's own actions.
extension HALoop {
    struct PendingOperation {
        let operation: LocalOperation
        let reply: CheckedContinuation<(status: Int, message: String), Never>
    }

    func submit(_ operation: LocalOperation) async -> (status: Int, message: String) {
        switch operation {
        case .reload:
            reloadRequested = true
            wakeup.signal()
            return (202, "reload scheduled")
        case let .scheduleRestart(request, at):
            if scheduledRestart != nil { return (409, "Another restart is already scheduled") }
            scheduledRestart = (request, at)
            return (202, "Restart scheduled")
        case .cancelScheduledRestart:
            guard scheduledRestart != nil else { return (404, "no restarts are scheduled") }
            scheduledRestart = nil
            return (200, "scheduled restart deleted")
        case .restart, .reinitialize:
            if stopRequested { return (503, "the agent is shutting down") }
            return await withCheckedContinuation { continuation in
                pending.append(PendingOperation(operation: operation, reply: continuation))
                wakeup.signal()
            }
        }
    }

    /// Runs queued requests, a due scheduled restart and a requested reload.
    func runOperations() async {
        if reloadRequested {
            reloadRequested = false
            await requestReload(path: configPath)
        }
        if let (request, at) = scheduledRestart, Date().timeIntervalSince1970 >= at {
            scheduledRestart = nil
            let (status, message) = await restart(request)
            logger.notice("scheduled restart: \(message) (\(status))")
        }
        while !pending.isEmpty {
            let next = pending.removeFirst()
            switch next.operation {
            case let .restart(request):
                next.reply.resume(returning: await restart(request))
            case let .reinitialize(_, fromLeader):
                await reinitialize(fromLeader: fromLeader, reply: next.reply)
            default:
                next.reply.resume(returning: (500, "not a queued operation"))
            }
        }
    }

    func restart(_ request: RestartRequest) async -> (status: Int, message: String) {
        let snapshot = box.snapshot()
        if snapshot.postgres.state == .starting { return (503, "postgres is still starting") }
        if let busy = snapshot.busyWith { return (503, "\(busy) already in progress") }
        if let role = request.role, role != snapshot.role { return (503, "restart conditions are not satisfied") }
        if request.onlyIfPending, snapshot.postgres.pendingRestart.isEmpty { return (503, "restart conditions are not satisfied") }
        if let wanted = request.postgresVersion, let running = snapshot.postgres.serverVersion,
           !Self.version(running, isBelow: wanted) {
            return (503, "restart conditions are not satisfied")
        }
        box.update { $0.busyWith = "restarting" }
        defer { box.update { $0.busyWith = nil } }
        logger.notice("restarting PostgreSQL on request")
        do {
            try await instance.restart(mode: .fast)
            // Answered with the new state in place: a client that reads /patroni next sees the restart.
            refreshSnapshot(await instance.observe(timeout: queryTimeout))
            return (200, "restarted successfully")
        } catch {
            logger.error("restart failed: \(error)")
            return (503, "restart failed")
        }
    }

    /// `server_version_num` 180006 against "18.7": restart only when the running one is older.
    static func version(_ number: Int64, isBelow wanted: String) -> Bool {
        let parts = wanted.split(separator: ".").compactMap { Int64($0) }
        guard let major = parts.first else { return false }
        let wantedNumber = major * 10000 + (parts.count > 1 ? parts[1] : 0)
        return number < wantedNumber
    }

    func reinitialize(fromLeader: Bool, reply: CheckedContinuation<(status: Int, message: String), Never>) async {
        guard let cluster = lastCluster, let leader = cluster.leader?.name, leader != me else {
            reply.resume(returning: (503, "Cluster has no leader, can not reinitialize"))
            return
        }
        let source = fromLeader ? leader : HAEngine.cloneSource(in: cluster, for: me, leader: leader)
        guard cluster.member(named: source)?.record.connURL.flatMap(ConnectionURL.hostPort) != nil else {
            reply.resume(returning: (503, "\(source) publishes no usable connection address (conn_url)"))
            return
        }
        // Patroni answers at once and copies in the background; the loop does the copy next.
        reply.resume(returning: (200, "reinitialize started"))
        _ = await keepingMemberAlive { await clone(from: source, in: cluster, replacing: true) }
    }
}
