import Foundation

/// Where a program named in a configuration (a callback, a replica method) is.
public enum ExecutablePath {
    /// A bare program name is looked up on PATH, as the shell and Python's Popen do; a name
    /// with a slash, or one found nowhere, is used as given (its start then fails with the name).
    public static func locate(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? program
    }
}
