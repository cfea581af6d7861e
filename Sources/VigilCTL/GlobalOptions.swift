import ArgumentParser

/// patronictl's global options, accepted before or after the command name.
public struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config-file")], help: "The configuration file (the agents' patroni.yml).")
    var configFile: String?
    @Option(name: [.customShort("d"), .customLong("dcs-url"), .customLong("dcs")], help: "etcd3://HOST:PORT/NAMESPACE, instead of the file's store.")
    var dcsURL: String?
    @Flag(name: [.customShort("k"), .customLong("insecure")], help: "Allow connections to the REST API without verifying certificates.")
    var insecure = false

    public init() {}

    func context(cluster: String?) throws -> CtlContext {
        try CtlContext.load(configFile: configFile, dcsURL: dcsURL, cluster: cluster, insecure: insecure)
    }

    /// Moves global options written before the command name (`vigilctl -c F list`) after it,
    /// where the command reads them.
    public static func reorder(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var rest: [String] = []
        var i = 0
        var seenCommand = false
        while i < arguments.count {
            let argument = arguments[i]
            if !seenCommand, ["-c", "--config-file", "-d", "--dcs-url", "--dcs"].contains(argument), i + 1 < arguments.count {
                // Long forms after the command: `query` has its own -c (command) and -d (dbname).
                globals += [["-c": "--config-file", "-d": "--dcs-url", "--dcs": "--dcs-url"][argument] ?? argument, arguments[i + 1]]
                i += 2
                continue
            }
            if !seenCommand, ["-k", "--insecure"].contains(argument) {
                globals.append("--insecure")
                i += 1
                continue
            }
            if !seenCommand, !argument.hasPrefix("-") {
                seenCommand = true
                rest.append(argument)
                // Nested commands (lab up) keep their own place; globals go after the first word.
                rest += globals
                globals = []
                i += 1
                continue
            }
            rest.append(argument)
            i += 1
        }
        return rest + globals
    }
}
