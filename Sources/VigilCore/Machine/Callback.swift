/// A user script from `postgresql.callbacks`, run as Patroni runs it: `script event role
/// scope`, not waited for, one at a time (a new one ends the one still running). Deployments
/// move a virtual IP or tell a pooler with `on_role_change`.
public struct Callback: Sendable, Equatable {
    public enum Event: String, Sendable, CaseIterable {
        case onStart = "on_start"
        case onStop = "on_stop"
        case onRestart = "on_restart"
        case onReload = "on_reload"
        case onRoleChange = "on_role_change"
    }

    public var event: Event
    /// Patroni's name for the role it runs in (or, for `on_role_change`, takes on): `primary`
    /// or `replica`.
    public var role: String

    public init(_ event: Event, role: String) {
        self.event = event
        self.role = role
    }
}

extension HAMachine {
    /// The callback a reload of the configuration (SIGHUP, `POST /reload`) calls for.
    public var reloadCallback: Callback? {
        callbacks.contains(.onReload) ? Callback(.onReload, role: lastRole == .primary ? "primary" : "replica") : nil
    }

    /// The callback a completed step calls for, when the configuration names a script for it
    /// (`callbacks`). Judged before the step's result changes what the machine remembers: a
    /// replica started on a node that was primary is a role change, not a start. The first
    /// clone and the bootstrap call none, as in Patroni.
    public func callback(after action: Action, _ result: ActionResult) -> Callback? {
        guard result.succeeded, !callbacks.isEmpty else { return nil }
        let wasPrimary = lastRole == .primary
        let callback: Callback? = switch action {
        case .promote: Callback(.onRoleChange, role: "primary")
        case .startPostgres(.primary): Callback(wasPrimary ? .onStart : .onRoleChange, role: "primary")
        case .startPostgres(.replica), .rejoin: Callback(wasPrimary ? .onRoleChange : .onStart, role: "replica")
        case .follow: wasPrimary ? Callback(.onRoleChange, role: "replica") : nil
        case .stopPostgres: Callback(.onStop, role: wasPrimary ? "primary" : "replica")
        case .restartPostgres: Callback(.onRestart, role: wasPrimary ? "primary" : "replica")
        default: nil
        }
        guard let callback, callbacks.contains(callback.event) else { return nil }
        return callback
    }
}
