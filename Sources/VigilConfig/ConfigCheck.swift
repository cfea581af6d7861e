import Foundation

/// `vigil --validate-config FILE` and `vigilctl check-config FILE`: one line per finding,
/// a summary line, and an exit status a script can branch on.
public enum ConfigCheck {
    public enum Outcome: Int32, Sendable {
        /// No errors (warnings and notes allowed).
        case valid = 0
        /// At least one error: the node would not run as configured.
        case invalid = 1
        /// The file could not be read or parsed at all.
        case unreadable = 2
    }

    public struct Report: Sendable {
        public var outcome: Outcome
        public var diagnostics: [Diagnostic]
        /// What to print, one line each.
        public var lines: [String]
    }

    public static func run(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Report {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigSource.load(path: path, environment: environment)
        } catch {
            let line = "\(error.location): error: \(error.message)".replacingOccurrences(of: "\n", with: " ")
            return Report(outcome: .unreadable, diagnostics: [], lines: [line])
        }
        let diagnostics = ConfigValidator.validate(loaded)
        var lines = diagnostics.map(\.rendered)
        lines.append(summary(of: diagnostics, path: path))
        return Report(outcome: diagnostics.hasErrors ? .invalid : .valid, diagnostics: diagnostics, lines: lines)
    }

    static func summary(of diagnostics: [Diagnostic], path: String) -> String {
        func count(_ severity: Diagnostic.Severity, _ noun: String) -> String {
            let n = diagnostics.filter { $0.severity == severity }.count
            return "\(n) \(noun)\(n == 1 ? "" : "s")"
        }
        let verdict = diagnostics.hasErrors ? "not valid" : "valid"
        return "\(path): \(verdict): \(count(.error, "error")), \(count(.warning, "warning")), \(count(.info, "note"))"
    }
}
