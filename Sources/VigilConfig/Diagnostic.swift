/// One finding about a configuration: what is wrong, where, and what to do about it.
public struct Diagnostic: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        /// The configuration cannot be run as written.
        case error
        /// It runs, but not as the file says, or not safely.
        case warning
        /// Worth knowing; nothing to fix.
        case info

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .info: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// A stable identifier per kind of finding, for tests and for anyone filtering output.
    public var code: String
    public var severity: Severity
    /// Dotted YAML path, e.g. `bootstrap.dcs.postgresql.parameters.wal_keep_segments`.
    public var path: String
    public var location: SourceLocation?
    public var message: String
    /// What to do about it; empty when there is nothing to do.
    public var fix: String

    public init(_ severity: Severity, code: String, path: String, location: SourceLocation?,
                message: String, fix: String = "") {
        self.severity = severity
        self.code = code
        self.path = path
        self.location = location
        self.message = message
        self.fix = fix
    }

    /// `file:line: severity: path: message Fix: what to do.` — one line, in the shape
    /// compilers use, so editors and grep can jump to it.
    public var rendered: String {
        var line = ""
        if let location { line += "\(location.file)\(location.line.map { ":\($0)" } ?? ""): " }
        line += "\(severity.rawValue): "
        if !path.isEmpty { line += "\(path): " }
        line += message
        if !fix.isEmpty { line += " Fix: \(fix)" }
        return line
    }
}

extension [Diagnostic] {
    /// Errors first, then by file position, so the output reads top to bottom.
    public func ordered() -> [Diagnostic] {
        enumerated().sorted { a, b in
            if a.element.severity != b.element.severity { return a.element.severity < b.element.severity }
            let la = a.element.location?.line ?? Int.max, lb = b.element.location?.line ?? Int.max
            if la != lb { return la < lb }
            return a.offset < b.offset
        }.map(\.element)
    }

    public var hasErrors: Bool { contains { $0.severity == .error } }
}
