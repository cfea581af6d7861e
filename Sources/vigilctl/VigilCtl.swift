import ArgumentParser
import VigilCTL
import VigilCore
import VigilLab

/// The operator's command line: patronictl's commands plus checks, drills and the lab.
@main
struct VigilCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigilctl",
        abstract: "Operate a Vigil (or Patroni) PostgreSQL cluster.",
        version: VigilVersion.string,
        subcommands: [ListCommand.self, TopologyCommand.self, SwitchoverCommand.self, FailoverCommand.self,
                      PauseCommand.self, ResumeCommand.self, RestartCommand.self, ReloadCommand.self, ReinitCommand.self,
                      FlushCommand.self, ShowConfigCommand.self, EditConfigCommand.self, HistoryCommand.self,
                      DsnCommand.self, RemoveCommand.self,
                      HAProxyConfigCommand.self, CheckConfigCommand.self, VersionCommand.self, QueryCommand.self, LabCommand.self])

    /// patronictl takes `-c FILE` before the command name; so does vigilctl.
    static func main() async {
        let arguments = GlobalOptions.reorder(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
