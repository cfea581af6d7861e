import Foundation
import Logging
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// Starts the user's callback scripts: the agent's `CallbackRunner`, nothing in the simulation.
public protocol CallbackRunning: Sendable {
    func run(_ callback: Callback) async
    /// Takes `postgresql.callbacks` as written again (a reload); returns the events that now
    /// have a script.
    func configure(_ scripts: [String: String]) async -> Set<Callback.Event>
}

/// No callbacks (the simulation, and an agent whose configuration names none).
public struct NoCallbacks: CallbackRunning {
    public init() {}
    public func run(_ callback: Callback) async {}
    public func configure(_ scripts: [String: String]) async -> Set<Callback.Event> { [] }
}

/// `postgresql.callbacks` as Patroni runs them: the command's words (split as a shell would,
/// nothing expanded) plus `event role scope`, with this agent's output, not waited for. One at
/// a time: a callback still running when the next is due is killed with what it started
/// (`on_reload` has a slot of its own), so a late `on_role_change` never undoes a newer one.
public actor CallbackRunner: CallbackRunning {
    private var commands: [Callback.Event: [String]]
    private let scope: String
    private let logger: Logger
    private var running: ChildProcess?
    private var reloading: ChildProcess?

    /// The events a script is configured for at start.
    public nonisolated let events: Set<Callback.Event>

    /// - Parameter scripts: `postgresql.callbacks` as written (event name to command line).
    public init(scripts: [String: String], scope: String, logger: Logger) {
        commands = Self.commands(scripts, logger: logger)
        self.scope = scope
        self.logger = logger
        events = Set(commands.keys)
    }

    public func configure(_ scripts: [String: String]) -> Set<Callback.Event> {
        commands = Self.commands(scripts, logger: logger)
        return Set(commands.keys)
    }

    /// Each script's words by event; what cannot run is said once and left out.
    static func commands(_ scripts: [String: String], logger: Logger) -> [Callback.Event: [String]] {
        var commands: [Callback.Event: [String]] = [:]
        for (name, command) in scripts {
            guard let event = Callback.Event(rawValue: name) else {
                logger.warning("postgresql.callbacks.\(name) is not a callback Patroni knows (on_start, on_stop, on_restart, on_reload, on_role_change): ignored")
                continue
            }
            guard let words = ShellWords.split(command), !words.isEmpty else {
                logger.error("postgresql.callbacks.\(name): cannot read the command line '\(command)' (an unclosed quote?): it will not run")
                continue
            }
            commands[event] = words
        }
        return commands
    }

    public func run(_ callback: Callback) async {
        guard let words = commands[callback.event] else { return }
        let previous = callback.event == .onReload ? reloading : running
        previous?.signalGroup(SIGKILL)
        let program = ExecutablePath.locate(words[0])
        let arguments = Array(words.dropFirst()) + [callback.event.rawValue, callback.role, scope]
        do {
            let child = try await ChildProcess.spawn(program, arguments, logPath: nil)
            if callback.event == .onReload { reloading = child } else { running = child }
            logger.notice("callback \(callback.event.rawValue) \(callback.role) \(scope) started: \(program) (pid \(child.pid))")
        } catch {
            logger.error("callback \(callback.event.rawValue) could not start: \(error)")
        }
    }

}
