import Foundation
import VigilAPI
import VigilCore
import VigilPostgres

/// Operator requests from the REST API. Those that touch PostgreSQL wait in a queue that the
/// loop empties between cycles, so they never run alongside the cycle's own steps; whether
/// and how they run is the machine's to say.
extension HALoop {
    struct PendingOperation {
        let request: OperatorRequest
        let reply: CheckedContinuation<(status: Int, message: String), Never>
    }

    public func submit(_ operation: LocalOperation) async -> (status: Int, message: String) {
        switch operation {
        case .reload:
            reloadRequested = true
            wakeup.signal()
            return (202, "reload scheduled")
        case let .scheduleRestart(request, at):
            return answerAtOnce(.scheduleRestart(request, at: at))
        case .cancelScheduledRestart:
            return answerAtOnce(.cancelScheduledRestart)
        case let .restart(request):
            return await queue(.restart(request))
        case let .reinitialize(_, fromLeader):
            return await queue(.reinitialize(fromLeader: fromLeader))
        }
    }

    private func answerAtOnce(_ request: OperatorRequest) -> (status: Int, message: String) {
        guard case let .answer(status, message) = machine.requested(request, me: me, facts: facts()) else {
            return (500, "the request needs the loop")
        }
        return (status, message)
    }

    private func queue(_ request: OperatorRequest) async -> (status: Int, message: String) {
        if stopRequested || fatal != nil { return (503, "the agent is shutting down") }
        return await withCheckedContinuation { continuation in
            pending.append(PendingOperation(request: request, reply: continuation))
            wakeup.signal()
        }
    }

    /// The node as the REST API shows it: the postmaster's exit is seen there at once.
    func facts() -> NodeFacts {
        let snapshot = box.snapshot()
        return NodeFacts(postgres: snapshot.postgres, busyWith: snapshot.busyWith, role: snapshot.role, cluster: lastCluster)
    }

    /// Runs a requested reload, a due scheduled restart and the queued requests.
    func runOperations() async {
        if reloadRequested {
            reloadRequested = false
            await requestReload(path: configPath)
        }
        if let due = machine.dueRestart(wallClock: clock.wallClock) {
            let (status, message) = await carryOut(.restart(due), reply: nil)
            logger.notice("scheduled restart: \(message) (\(status))")
        }
        while !pending.isEmpty {
            let next = pending.removeFirst()
            _ = await carryOut(next.request, reply: next.reply)
        }
    }

    /// One request: answered by the machine, or its step carried out and the requester told how
    /// it went (before the step when the machine says so).
    @discardableResult
    func carryOut(_ request: OperatorRequest,
                  reply: CheckedContinuation<(status: Int, message: String), Never>?) async -> (status: Int, message: String) {
        switch machine.requested(request, me: me, facts: facts()) {
        case let .answer(status, message):
            reply?.resume(returning: (status, message))
            return (status, message)
        case let .perform(action, answerFirst):
            if let answerFirst { reply?.resume(returning: answerFirst) }
            for step in machine.stepsBefore(action, me: setup.identity, cluster: lastCluster) { _ = await perform(step) }
            defer { releasingSync = false }
            let result = action.mayOutlastTTL ? await keepingMemberAlive { await perform(action) } : await perform(action)
            if let callback = machine.callback(after: action, result) { _ = await perform(.runCallback(callback)) }
            let answer = machine.requestCompleted(action, result, at: now)
            if answerFirst == nil { reply?.resume(returning: answer) }
            return answer
        }
    }
}
