import Synchronization

/// Where the REST server gets its answers and how it nudges the HA loop.
public protocol SnapshotSource: Sendable {
    func snapshot() -> NodeSnapshot
    /// Cut the HA loop's sleep short (a request changed something it should act on).
    func wake()
}

/// A snapshot the agent replaces after every cycle and patches when the postmaster exits.
public final class SnapshotBox: SnapshotSource {
    private let current: Mutex<NodeSnapshot>
    private let onWake: @Sendable () -> Void

    public init(_ initial: NodeSnapshot, onWake: @escaping @Sendable () -> Void = {}) {
        current = Mutex(initial)
        self.onWake = onWake
    }

    public func snapshot() -> NodeSnapshot { current.withLock { $0 } }
    public func update(_ change: (inout NodeSnapshot) -> Void) { current.withLock { change(&$0) } }
    public func wake() { onWake() }
}
