/// What went wrong when the operating system was asked for something, in one sentence that
/// names the thing, for the caller to put in its own terms (InstanceError, a lab error, a
/// command's message).
public enum SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A program could not be started (missing, not executable, refused by the kernel).
    case start(String)
    /// A file could not be opened, or handed to another user.
    case permission(String)
    /// A user account the work must run as does not exist.
    case account(String)

    public var description: String {
        switch self {
        case let .start(message), let .permission(message), let .account(message): message
        }
    }
}
