/// Whether a former primary (or a replica) can follow a new primary as it is, or must be
/// rewound first: its WAL went past the point where the new primary's timeline branched off.
public enum TimelineDivergence {
    /// One line of a timeline history file: `parentTimeline  switchpoint  reason`.
    public struct HistoryEntry: Sendable, Equatable {
        public var parentTimeline: Int64
        public var switchpoint: Int64

        public init(parentTimeline: Int64, switchpoint: Int64) {
            self.parentTimeline = parentTimeline
            self.switchpoint = switchpoint
        }
    }

    /// A leader's timeline and its history file: what a local end of WAL is compared with.
    public struct LeaderHistory: Sendable, Equatable {
        public var timeline: Int64
        public var history: [HistoryEntry]

        public init(timeline: Int64, history: [HistoryEntry]) {
            self.timeline = timeline
            self.history = history
        }

        /// Whether WAL ending at `localLSN` on `localTimeline` went past this leader's branch point.
        public func needsRewind(localTimeline: Int64, localLSN: Int64, inRecovery: Bool) -> Bool {
            TimelineDivergence.needsRewind(localTimeline: localTimeline, localLSN: localLSN, inRecovery: inRecovery,
                                           primaryTimeline: timeline, history: history)
        }
    }

    /// What a running replica's check against a new leader's timeline found (the shell's
    /// answer to `Action.checkTimeline`); the machine decides what follows from it.
    public enum Check: Sendable, Equatable {
        /// Its WAL ends within the leader's history: it can follow as it runs.
        case withinLeaderHistory
        /// Its WAL went past the leader's branch point, or the running server cannot show that it
        /// did not: only the stopped data directory can tell (pg_controldata), so it rejoins.
        case needsStoppedCheck(String)
        /// The leader could not be asked (still finishing its promotion, unreachable, a role that
        /// may not read its history file).
        case leaderCannotTell(String)
    }

    /// Parses PostgreSQL's `0000000N.history` text (`1\t0/3000060\tno recovery target specified`).
    public static func parseHistory(_ text: String) -> [HistoryEntry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, !line.hasPrefix("#"), let timeline = Int64(fields[0]),
                  let lsn = LSN(String(fields[1])) else { return nil }
            return HistoryEntry(parentTimeline: timeline, switchpoint: Int64(clamping: lsn.value))
        }
    }

    /// - Parameters:
    ///   - localTimeline / localLSN: where the local data directory ended (pg_controldata).
    ///   - inRecovery: whether it was shut down as a replica (then its LSN is a replay position).
    ///   - primaryTimeline / history: the new primary's timeline and its history file.
    /// - Returns: true when pg_rewind (or a new copy) is needed before following.
    public static func needsRewind(localTimeline: Int64, localLSN: Int64, inRecovery: Bool,
                                   primaryTimeline: Int64, history: [HistoryEntry]) -> Bool {
        if localTimeline == primaryTimeline { return false }
        if localTimeline > primaryTimeline { return true }
        for entry in history {
            if entry.parentTimeline == localTimeline {
                // A replica that replayed up to the switchpoint, or a primary whose last
                // record ends before it, has nothing the new timeline lacks.
                return inRecovery ? localLSN > entry.switchpoint : localLSN >= entry.switchpoint
            }
            if entry.parentTimeline > localTimeline { return true }
        }
        return true
    }
}
