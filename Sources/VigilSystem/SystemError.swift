/// What went wrong when the operating system was asked for something: a program that does not
/// start, a file that cannot be opened or handed over, an account that does not exist. One
/// sentence that names the thing, for the caller to put in its own terms (InstanceError, a
/// lab error, a command's message).
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A program could not be started (missing, not executable, refused by the kernel).
        case start
        /// A file could not be opened, or handed to another user.
        case permission
        /// A user account the work must run as does not exist.
        case account
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
