import VigilAgent
import VigilCore

/// The fence outside the agent as the simulation runs it: one per node, like the real one per
/// data directory, so it outlives the agent (killed, frozen, restarted). It holds the deadline
/// the agent arms it with and, once the simulated clock passes it, stops the node's server at
/// once (the real fence's SIGQUIT, then SIGKILL: a crash). The invariants then hold a primary
/// to its lease whatever its agent is doing.
final class SimFence: Fencing, @unchecked Sendable {
    unowned let world: SimCluster
    let server: SimServer
    /// When the server is stopped unless a renewal moves it (simulated time).
    private(set) var deadline: Duration?
    /// The fence fired since the agent last told it anything: said once, as the real one does.
    private var fired: Duration?
    /// How many times it stopped the server (a live agent should have stopped it first).
    private(set) var firings = 0
    /// The deadline in force from each moment on (nil: disarmed), oldest first.
    private(set) var deadlines: [(from: Duration, until: Duration?)] = []

    /// The last deadline armed at or before `time` (a disarm at the same moment comes after).
    func deadline(at time: Duration) -> Duration? { deadlines.last { $0.from <= time && $0.until != nil }?.until }

    init(world: SimCluster, server: SimServer) {
        self.world = world
        self.server = server
    }

    func arm(remaining: Duration, watchdog: FenceWire.WatchdogRequest?) async throws(FenceError)
        -> (state: FenceWire.State, watchdog: FenceWire.WatchdogAnswer) {
        let until = world.now + remaining
        deadline = until
        deadlines.append((world.now, until))
        return (reportFired() ?? .armed(deadline: until.inNanoseconds), .none)
    }

    func disarm() async throws(FenceError) -> FenceWire.State {
        deadline = nil
        deadlines.append((world.now, nil))
        return reportFired() ?? .disarmed
    }

    func status() async -> FenceWire.State? {
        guard let deadline else { return .disarmed }
        return .armed(deadline: deadline.inNanoseconds)
    }

    /// The host is lost: the fence goes with it.
    func reset() {
        deadline = nil
        fired = nil
    }

    /// Called as simulated time passes: past the deadline, the server is stopped.
    func tick() {
        guard let due = deadline, world.now >= due else { return }
        deadline = nil
        guard server.running else { return }
        world.note("FENCE: \(server.name)'s deadline passed without a renewal: its server is stopped")
        fired = world.now
        firings += 1
        server.crash()
    }

    private func reportFired() -> FenceWire.State? {
        guard let at = fired else { return nil }
        fired = nil
        return .fenced(pid: 4242, at: at.inNanoseconds)
    }
}
