/// A PostgreSQL role and its password, as the instance uses them to connect or create roles.
public struct RoleCredentials: Sendable, Equatable, CustomStringConvertible {
    public var username: String
    /// Never printed; see `description`.
    public var password: String?

    public init(username: String, password: String?) {
        self.username = username
        self.password = password
    }

    public var description: String { username }
}

/// A role to create at bootstrap, with its options (`createdb`, `replication`, …).
public struct RoleSpec: Sendable, Equatable {
    public var credentials: RoleCredentials
    public var options: [String]

    public init(credentials: RoleCredentials, options: [String]) {
        self.credentials = credentials
        self.options = options
    }
}
