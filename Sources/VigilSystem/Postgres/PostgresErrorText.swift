import PostgresNIO

/// PostgresNIO's errors in PostgreSQL's own words. A `PSQLError` prints as an opaque code;
/// the server's message sits in a nested field, and a connection that failed carries its
/// cause (refused, timed out) underneath. One describer for every caller.
public enum PostgresErrorText {
    /// The server's message when there is one (with its SQLSTATE when `sqlState`, as psql
    /// prints it), else the client-side failure and its cause.
    public static func describe(_ error: any Error, sqlState: Bool = false) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let message = psql.serverInfo?[.message] {
            guard sqlState else { return message }
            let code = psql.serverInfo?[.sqlState].map { ", SQLSTATE: \($0)" } ?? ""
            return "ERROR: \(message)\(code)"
        }
        if psql.code == .authMechanismRequiresPassword {
            return "the server asks for a password, and none is configured"
        }
        return psql.underlying.map { "\(psql.code): \($0)" } ?? "\(psql.code)"
    }

    /// A refused password or a role that may not log in (SQLSTATE 28P01, 28000): retrying
    /// will not help, so callers fail at once.
    public static func isAuthenticationFailure(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError, let code = psql.serverInfo?[.sqlState] else { return false }
        return code == "28P01" || code == "28000"
    }
}
