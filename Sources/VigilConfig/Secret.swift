/// A password or key passphrase from the configuration. It prints as a mask everywhere
/// (logs, errors, `dump`), so a secret can only leave the process through `.value`,
/// which code reaches for on purpose when it authenticates.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// A user name with an optional password, as in `restapi.authentication` or `ctl.authentication`.
public struct Credentials: Sendable, Equatable {
    public var username: String?
    public var password: Secret?

    public init(username: String?, password: Secret?) {
        self.username = username
        self.password = password
    }

    init?(_ section: ConfigSection) {
        guard section.exists else { return nil }
        username = section.string("username")
        password = section.string("password").map(Secret.init)
    }
}
