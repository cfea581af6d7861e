import VigilSystem

/// What went wrong with PostgreSQL, in words an operator can act on: what, where, and
/// (where there is one) what to do.
public struct InstanceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A binary is missing or does not run.
        case binaries
        /// The data directory is missing, foreign, or has the wrong permissions.
        case dataDirectory
        /// A file or directory could not be written or handed to the PostgreSQL user.
        case permission
        /// The listen address or port is taken or unusable.
        case address
        /// A tool (initdb, pg_basebackup, pg_rewind, …) failed.
        case command
        /// Authentication against a server failed.
        case authentication
        /// PostgreSQL did not reach the expected state in time.
        case timeout
        /// A query failed, or the server is not running.
        case query
        /// Not possible in the current state (e.g. promote a primary).
        case state
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension InstanceError {
    /// The operating system's refusal in the instance's terms: a program that does not start
    /// is a binaries problem, anything else about files or accounts a permission problem.
    public init(_ error: SystemError) {
        if case .start = error {
            self.init(.binaries, error.description)
        } else {
            self.init(.permission, error.description)
        }
    }

    /// Runs `body`, turning a SystemError into an InstanceError.
    static func lifting<T>(_ body: () throws(SystemError) -> T) throws(InstanceError) -> T {
        do {
            return try body()
        } catch {
            throw InstanceError(error)
        }
    }
}
