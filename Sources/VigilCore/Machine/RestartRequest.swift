/// The conditions of `POST /restart`.
public struct RestartRequest: Sendable, Equatable {
    /// Restart only if the node has this role (primary, replica, standby_leader).
    public var role: String?
    /// Restart only if the running server version is lower than this (e.g. "18.7").
    public var postgresVersion: String?
    /// Restart only if a parameter is waiting for a restart.
    public var onlyIfPending: Bool
    public var timeout: Int?
    /// As written, for the member key.
    public var schedule: String?

    public init(role: String? = nil, postgresVersion: String? = nil, onlyIfPending: Bool = false, timeout: Int? = nil,
                schedule: String? = nil) {
        self.role = role
        self.postgresVersion = postgresVersion
        self.onlyIfPending = onlyIfPending
        self.timeout = timeout
        self.schedule = schedule
    }
}
