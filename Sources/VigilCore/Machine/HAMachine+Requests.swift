/// An operator's request that touches the local PostgreSQL (`POST /restart`, `/reinitialize`,
/// a scheduled restart). The shell runs them between cycles, never alongside one.
public enum OperatorRequest: Sendable, Equatable {
    case restart(RestartRequest)
    case scheduleRestart(RestartRequest, at: Double)
    case cancelScheduledRestart
    /// A fresh copy of the data directory: from the leader, or from where a new replica would clone.
    case reinitialize(fromLeader: Bool)
}

/// The machine's answer to a request: an HTTP status and message at once, or a step to carry
/// out first (its result then gives the answer, `HAMachine.requestCompleted`).
public enum RequestAnswer: Sendable, Equatable {
    case answer(status: Int, message: String)
    /// Carry it out; the request is answered at once with `answer` (as Patroni does for a
    /// reinitialize: it copies in the background) or after, with the step's result (nil).
    case perform(Action, answerFirst: (status: Int, message: String)?)

    public static func == (a: RequestAnswer, b: RequestAnswer) -> Bool {
        switch (a, b) {
        case let (.answer(s1, m1), .answer(s2, m2)): s1 == s2 && m1 == m2
        case let (.perform(a1, f1), .perform(a2, f2)): a1 == a2 && f1?.status == f2?.status && f1?.message == f2?.message
        default: false
        }
    }
}

/// What the node looks like when a request arrives (the REST API's snapshot: the postmaster's
/// exit is seen at once there).
public struct NodeFacts: Sendable, Equatable {
    public var postgres: PostgresStatus
    public var busyWith: String?
    /// Patroni's role string (primary, replica, uninitialized…).
    public var role: String
    /// The last view of the store that could be read.
    public var cluster: ClusterState?

    public init(postgres: PostgresStatus, busyWith: String?, role: String, cluster: ClusterState?) {
        self.postgres = postgres
        self.busyWith = busyWith
        self.role = role
        self.cluster = cluster
    }
}

extension HAMachine {
    public mutating func requested(_ request: OperatorRequest, me: String, facts: NodeFacts) -> RequestAnswer {
        switch request {
        case let .scheduleRestart(restart, at):
            if scheduledRestart != nil { return .answer(status: 409, message: "Another restart is already scheduled") }
            scheduledRestart = (restart, at)
            return .answer(status: 202, message: "Restart scheduled")
        case .cancelScheduledRestart:
            guard scheduledRestart != nil else { return .answer(status: 404, message: "no restarts are scheduled") }
            scheduledRestart = nil
            return .answer(status: 200, message: "scheduled restart deleted")
        case let .restart(restart):
            if let refusal = Self.restartRefusal(restart, facts) { return .answer(status: 503, message: refusal) }
            return .perform(.restartPostgres, answerFirst: nil)
        case let .reinitialize(fromLeader):
            guard let cluster = facts.cluster, let leader = cluster.leader?.name, leader != me else {
                return .answer(status: 503, message: "Cluster has no leader, can not reinitialize")
            }
            let source = fromLeader ? leader : HAEngine.cloneSource(in: cluster, for: me, leader: leader)
            guard cluster.member(named: source)?.record.connURL.flatMap(ConnectionURL.hostPort) != nil else {
                return .answer(status: 503, message: "\(source) publishes no usable connection address (conn_url)")
            }
            return .perform(.reinitialize(from: source), answerFirst: (200, "reinitialize started"))
        }
    }

    /// The steps before an operator's request's own: a synchronous standby asks to be released
    /// before it restarts, so commits need not wait for it meanwhile.
    public func stepsBefore(_ action: Action, me: MemberIdentity, cluster: ClusterState?) -> [Action] {
        guard action == .restartPostgres, let release = syncRelease(me: me, cluster: cluster) else { return [] }
        return [release]
    }

    /// Asking to be released from synchronous standby: only in synchronous mode, for a member that
    /// may be one and does not lead, and only while the `sync` key of the current leader lists it.
    func syncRelease(me: MemberIdentity, cluster: ClusterState?) -> Action? {
        guard settings.sync.enabled, me.allowsSync, lock.lastConfirmed == nil,
              cluster?.listsAsSynchronousStandby(me.name) == true else { return nil }
        return .releaseSync(within: .seconds(2 * settings.timings.loopWait))
    }

    /// A scheduled restart whose time has come (it is then no longer scheduled).
    public mutating func dueRestart(wallClock: Double) -> RestartRequest? {
        guard let (request, at) = scheduledRestart, wallClock >= at else { return nil }
        scheduledRestart = nil
        return request
    }

    /// How a request's step went: what the requester is told (when it was not told already).
    public mutating func requestCompleted(_ action: Action, _ result: ActionResult, at now: Duration) -> (status: Int, message: String) {
        switch (action, result) {
        case (.restartPostgres, .done):
            return (200, "restarted successfully")
        case (.restartPostgres, _):
            return (503, "restart failed")
        case let (.reinitialize(source), .done):
            point(at: source, now)
            return (200, "reinitialized from \(source)")
        default:
            return (503, "\(action) failed")
        }
    }

    /// Why a restart may not run now (nil: it may).
    static func restartRefusal(_ request: RestartRequest, _ facts: NodeFacts) -> String? {
        if facts.postgres.state == .starting { return "postgres is still starting" }
        if let busy = facts.busyWith { return "\(busy) already in progress" }
        if let role = request.role, role != facts.role { return "restart conditions are not satisfied" }
        if request.onlyIfPending, facts.postgres.pendingRestart.isEmpty { return "restart conditions are not satisfied" }
        if let wanted = request.postgresVersion, let running = facts.postgres.serverVersion,
           !version(running, isBelow: wanted) {
            return "restart conditions are not satisfied"
        }
        return nil
    }

    /// `server_version_num` 180006 against "18.7": restart only when the running one is older.
    /// A wanted version too large to compute is above any running one (and never traps).
    static func version(_ number: Int64, isBelow wanted: String) -> Bool {
        let parts = wanted.split(separator: ".").map { Int64($0) }
        guard let first = parts.first, let major = first else { return false }
        let minor = parts.count > 1 ? (parts[1] ?? 0) : 0
        let (scaled, overflow) = major.multipliedReportingOverflow(by: 10000)
        guard !overflow else { return true }
        let (wantedNumber, overflow2) = scaled.addingReportingOverflow(minor)
        return overflow2 || number < wantedNumber
    }
}
