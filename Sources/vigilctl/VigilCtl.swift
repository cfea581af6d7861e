import ArgumentParser
import VigilCTL
import VigilLab
import VigilCore

/// The operator's command line: patronictl's commands plus checks, drills and the lab.
@main
struct VigilCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigilctl",
        abstract: "Operate a Vigil (or Patroni) PostgreSQL cluster.",
        version: VigilVersion.string,
        subcommands: [CheckConfigCommand.self, VersionCommand.self, LabCommand.self])
}
