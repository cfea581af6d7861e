import Logging
import Synchronization

/// The schedule's log: the faults, and every agent's own log lines (kept only when a seed is
/// replayed; otherwise the agents' lines are dropped before they are formatted).
final class SimLog: Sendable {
    let keeping: Bool
    private let lines = Mutex<[String]>([])

    init(keeping: Bool) { self.keeping = keeping }

    func note(_ line: @autoclosure () -> String) {
        guard keeping else { return }
        let text = line()
        lines.withLock { $0.append(text) }
    }

    var all: [String] { lines.withLock { $0 } }
}

/// Sends an agent's log lines to the schedule's log, tagged with the node.
struct SimLogHandler: LogHandler {
    let log: SimLog
    let node: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(log: SimLog, node: String) {
        self.log = log
        self.node = node
        logLevel = log.keeping ? .info : .critical
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        log.note("    \(node) \(level): \(message)")
    }
}
