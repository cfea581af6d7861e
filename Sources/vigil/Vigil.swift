import ArgumentParser
import Foundation
import Logging
import VigilAgent
import VigilConfig
import VigilCore
#if canImport(Glibc)
import Glibc
#endif

/// `vigil CONFIG`: the agent that keeps one PostgreSQL node in its cluster.
@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "High-availability agent for PostgreSQL: reads patroni.yml, manages one node.",
        version: VigilVersion.string)

    @Flag(name: .customLong("validate-config"),
          help: "Check the configuration, print one line per finding and exit (0 valid, 1 errors, 2 unreadable).")
    var validateConfig = false

    @Argument(help: "The configuration file (patroni.yml) or a directory of *.yml files.")
    var configFile: String?

    /// The fence the agent starts for its data directory (FenceServer); not for people to run.
    @Option(name: .customLong("fence"), help: .hidden)
    var fenceDataDirectory: String?

    func run() async throws {
        if let fenceDataDirectory { throw ExitCode(FenceServer.run(dataDirectory: fenceDataDirectory)) }
        if validateConfig {
            guard let configFile else { throw ValidationError("--validate-config needs the configuration file to check.") }
            let report = ConfigCheck.run(path: configFile)
            for line in report.lines { print(line) }
            throw ExitCode(report.outcome.rawValue)
        }
        // PostgreSQL refuses to run as root, and an agent that creates data directories and
        // starts servers as root would leave files PostgreSQL cannot use later.
        if geteuid() == 0 {
            FileHandle.standardError.write(Data("vigil: refusing to run as root; start it as the user that owns the PostgreSQL data directory (e.g. sudo -u postgres vigil CONFIG).\n".utf8))
            throw ExitCode(1)
        }
        guard let configFile else { throw ValidationError("missing the configuration file: vigil CONFIG") }
        let report = ConfigCheck.run(path: configFile)
        if report.outcome != .valid {
            for line in report.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            throw ExitCode(report.outcome.rawValue)
        }
        for line in report.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let code = await Agent.run(configPath: configFile, logger: Logger(label: "vigil"))
        throw ExitCode(code)
    }
}
