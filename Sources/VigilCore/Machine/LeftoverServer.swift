/// A PostgreSQL that a previous agent left running on this node's data directory (it was
/// killed, crashed, or stopped in pause), found when an agent starts.
public enum LeftoverServer {
    public enum Verdict: Sendable, Equatable {
        /// Taken over as it runs: the new agent goes on from there without a restart.
        case keep
        /// Stopped first, then started by the new agent's first cycles.
        case stop
    }

    /// Kept when nothing can make it a second primary behind the agent's back: it runs as a
    /// replica, or the fence that outlived the previous agent guards it (its deadline stops it
    /// unless this agent renews the lease in time), or the cluster is paused (PostgreSQL is the
    /// operator's then). A primary with none of these is stopped: its lease may be running out
    /// with nothing left to stop it in time.
    /// - Parameter paused: nil when the store does not answer (pause is not known: not assumed).
    public static func verdict(runsAsReplica: Bool, fenceArmed: Bool, paused: Bool?) -> Verdict {
        runsAsReplica || fenceArmed || paused == true ? .keep : .stop
    }

    /// Why, in the words the agent logs.
    public static func reason(runsAsReplica: Bool, fenceArmed: Bool, paused: Bool?) -> String {
        switch verdict(runsAsReplica: runsAsReplica, fenceArmed: fenceArmed, paused: paused) {
        case .keep: runsAsReplica ? "a replica" : fenceArmed ? "a primary its fence guards" : "the cluster is paused"
        case .stop: paused == nil ? "the store does not answer, and it may be a primary nobody renews the lease of"
                                  : "a primary no fence guards"
        }
    }
}
