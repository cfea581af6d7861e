import VigilCore
import VigilDCS
import VigilPostgres

/// One seeded schedule: a cluster bootstraps, suffers random faults, then heals; the
/// invariants are checked after every step and convergence at the end.
enum SimSchedule {
    static let faultSteps = 60
    static let calmSteps = 45

    struct Outcome {
        var violation: String?
        var log: [String]
    }

    /// - Parameter slowAnswers: whether the store also answers some members slowly (see
    ///   `slowDown`). Drawn from a stream of its own, so that without it a seed replays the
    ///   schedule it had before this fault existed (the regression seeds do).
    static func run(seed: UInt64, keepLog: Bool = false, slowAnswers: Bool = true) async -> Outcome {
        let sim = SimCluster(seed: seed, size: 2 + Int(seed % 2), keepLog: keepLog)
        var slowness = SimRandom(seed: seed ^ 0x5105_A45E_D0C1_0C4B)
        var pending: [(at: Duration, node: SimCluster.Node)] = []
        for step in 0..<(faultSteps + calmSteps) {
            await sim.beginSecond()
            let now = sim.now
            for (index, item) in pending.enumerated().reversed() where item.at <= now {
                sim.restartAgent(item.node)
                pending.remove(at: index)
            }
            if step >= 12 && step < faultSteps && sim.rng.chance(0.12) {
                await inject(into: sim, pending: &pending)
            }
            if slowAnswers && step >= 12 && step < faultSteps && slowness.chance(0.04) {
                slowDown(sim, using: &slowness)
            }
            if step == faultSteps { heal(sim, pending: &pending) }
            await sim.runAgents(at: now)
            sim.betweenCycles()
            await sim.checkInvariants(step: step)
            if sim.violation != nil { break }
        }
        if sim.violation == nil, let problem = await sim.convergenceProblem() {
            sim.violation = "did not converge after \(calmSteps) s without faults: \(problem)"
        }
        return Outcome(violation: sim.violation, log: sim.log.all)
    }

    static func inject(into sim: SimCluster, pending: inout [(at: Duration, node: SimCluster.Node)]) async {
        let node = sim.nodes[Int.random(in: 0..<sim.nodes.count, using: &sim.rng)]
        let now = sim.now
        let kind = Int.random(in: 0..<10, using: &sim.rng)
        sim.record(kind < 9 ? .fault : .request)
        switch kind {
        case 0:
            sim.note("FAULT: postgres on \(node.name) killed")
            node.server.crash()
        case 1:
            guard node.agentAlive else { return }
            sim.note("FAULT: \(node.name) lost (agent and postgres killed)")
            node.agentAlive = false
            node.server.crash()
            node.fence.reset()
            pending.append((now + .seconds(Int64.random(in: 5...25, using: &sim.rng)), node))
        case 2:
            sim.note("FAULT: \(node.name) agent frozen")
            node.frozenUntil = now + .seconds(Int64.random(in: 3...25, using: &sim.rng))
        case 3:
            sim.note("FAULT: \(node.name) cut off from the store")
            node.connection.faults = StoreFaults(unreachable: true)
            node.storeCutUntil = now + .seconds(Int64.random(in: 3...15, using: &sim.rng))
        case 4:
            guard node.agentAlive else { return }
            sim.note("FAULT: \(node.name) agent restarted (postgres keeps running)")
            node.agentAlive = false
            pending.append((now + .seconds(Int64.random(in: 1...5, using: &sim.rng)), node))
        case 5:
            // Its REST API answers after the probe's 2 s (overloaded host, slow network). A cycle
            // that runs late is a freeze (case 2): the lease, not the cycle, bounds it.
            sim.note("FAULT: \(node.name) slow to answer (probes of it time out)")
            node.slowUntil = now + .seconds(Int64.random(in: 3...20, using: &sim.rng))
        case 6:
            sim.note("FAULT: postgres on \(node.name) hangs (runs, answers nothing)")
            node.server.hungUntil = now + .seconds(Int64.random(in: 2...25, using: &sim.rng))
        case 7:
            // etcd down for everyone (all members, or quorum lost).
            let outage = now + .seconds(Int64.random(in: 3...15, using: &sim.rng))
            sim.note("FAULT: the store is down for every member")
            for each in sim.nodes {
                each.connection.faults = StoreFaults(unreachable: true)
                each.storeCutUntil = outage
            }
        case 8:
            sim.note("FAULT: \(node.name)'s store answers are lost after commit")
            node.connection.faults = StoreFaults(loseResponsesAfterCommit: true)
            node.storeCutUntil = now + .seconds(Int64.random(in: 2...8, using: &sim.rng))
        default:
            // As an operator asks through the REST API or vigilctl, which refuse a member that
            // may not be promoted (nofailover): one made leader by hand can leave a synchronous
            // cluster with nobody allowed to take over after it.
            let allowed = sim.nodes.filter { $0.setup.identity.mayRace }
            let target = allowed[Int.random(in: 0..<allowed.count, using: &sim.rng)].name
            sim.requestedTarget = target
            sim.note("REQUEST: switchover to \(target)")
            _ = try? await sim.observer.setFailover(FailoverRequest(member: target), expectedVersion: nil)
        }
    }

    /// The store answers one member slowly for a while (an overloaded etcd, a congested link):
    /// every call takes up to 6 s of the simulated clock, or times out at its budget. A primary
    /// that meets this near its deadline must still stop taking writes by it: the HA loop cuts
    /// its calls short there (EtcdStore.endCalls(by:)) and the machine stops PostgreSQL.
    static func slowDown(_ sim: SimCluster, using slowness: inout SimRandom) {
        let node = sim.nodes[Int.random(in: 0..<sim.nodes.count, using: &slowness)]
        let latency = Duration.milliseconds(Int64.random(in: 300...6000, using: &slowness))
        sim.note("FAULT: the store answers \(node.name) slowly (\(latency) a call)")
        node.connection.faults = StoreFaults(latency: latency)
        node.storeCutUntil = sim.now + .seconds(Int64.random(in: 3...15, using: &slowness))
    }

    static func heal(_ sim: SimCluster, pending: inout [(at: Duration, node: SimCluster.Node)]) {
        sim.note("HEAL")
        for item in pending { sim.restartAgent(item.node) }
        pending.removeAll()
        for node in sim.nodes {
            node.frozenUntil = nil
            node.slowUntil = nil
            node.server.hungUntil = nil
            node.connection.faults = .none
            node.storeCutUntil = nil
            if !node.agentAlive { sim.restartAgent(node) }
        }
    }
}
