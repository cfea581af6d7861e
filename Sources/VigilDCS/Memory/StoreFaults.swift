/// Failures an in-memory connection can be told to have, to test what the agent does when
/// the store misbehaves.
public struct StoreFaults: Sendable, Equatable {
    /// Every call fails at once with `.unreachable` (a partition, or etcd down).
    public var unreachable = false
    /// Every call takes this long; one whose budget is shorter times out before it reaches
    /// the store (nothing is written).
    public var latency: Duration = .zero
    /// Writes are applied, but the caller is told `.timedOut`: the response was lost.
    public var loseResponsesAfterCommit = false
    /// The same for key writes (transactions) only: lease calls answer.
    public var loseWriteResponsesAfterCommit = false
    /// The etcd cluster lost quorum: reads and writes fail with `.noLeader`.
    public var noLeader = false

    public init(unreachable: Bool = false, latency: Duration = .zero, loseResponsesAfterCommit: Bool = false,
                loseWriteResponsesAfterCommit: Bool = false, noLeader: Bool = false) {
        self.unreachable = unreachable
        self.latency = latency
        self.loseResponsesAfterCommit = loseResponsesAfterCommit
        self.loseWriteResponsesAfterCommit = loseWriteResponsesAfterCommit
        self.noLeader = noLeader
    }

    public static let none = StoreFaults()
}
