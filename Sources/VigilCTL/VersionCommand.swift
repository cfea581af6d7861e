import ArgumentParser
import VigilCore

public struct VersionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "version", abstract: "Print vigilctl's version.")
    public init() {}
    public func run() { print("vigilctl version \(VigilVersion.string)") }
}
