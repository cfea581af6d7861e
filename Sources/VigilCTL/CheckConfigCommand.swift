import ArgumentParser
import VigilConfig

/// `vigilctl check-config FILE`: validates a patroni.yml without touching the cluster.
public struct CheckConfigCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a patroni.yml for mistakes, and say what to do about each.",
        discussion: """
            Prints one line per finding (file:line: severity: yaml.path: message Fix: …) and a summary.
            Exit status: 0 valid (warnings allowed), 1 errors found, 2 the file cannot be read or parsed.
            PATRONI_* and VIGIL_* environment variables are applied as the agent would apply them.
            """)

    @Argument(help: "The configuration file (or a directory of *.yml files).")
    var file: String

    public init() {}

    public func run() throws {
        let report = ConfigCheck.run(path: file)
        for line in report.lines { print(line) }
        if report.outcome != .valid { throw ExitCode(report.outcome.rawValue) }
    }
}
