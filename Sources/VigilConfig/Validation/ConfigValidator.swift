/// Checks a loaded configuration for what would stop a node, or make it behave other than
/// the file says. Pure: everything it needs (file texts and permissions) was read by
/// `ConfigSource`; each rule lives in its own file and returns its findings.
public enum ConfigValidator {
    typealias Rule = @Sendable (ValidationInput) -> [Diagnostic]

    static let rules: [Rule] = [
        RequiredKeysRule.check,
        StoreRules.check,
        AddressRules.check,
        TimingRules.check,
        ParameterRules.check,
        SecretRules.check,
        BootstrapRules.check,
        RestAPIRules.check,
        WatchdogRules.check,
        NotActedOnRules.check,
    ]

    public static func validate(_ loaded: LoadedConfiguration) -> [Diagnostic] {
        let input = ValidationInput(configuration: loaded.configuration, files: loaded.files,
                                    watchdogDeviceWritable: loaded.watchdogDeviceWritable)
        return (loaded.readDiagnostics + rules.flatMap { $0(input) }).ordered()
    }
}

struct ValidationInput {
    var configuration: Configuration
    var files: [ConfigFile]
    var watchdogDeviceWritable = true

    /// The file a finding without a line of its own is best attributed to.
    var mainFile: String? { files.first?.path }

    /// A location for a key that is missing: the nearest parent that exists, else the file.
    func location(ofParent path: [String]) -> SourceLocation? {
        var node: ConfigNode? = configuration.tree
        var best: SourceLocation? = mainFile.map { SourceLocation(file: $0) }
        for key in path {
            guard let entry = node?.entry(key) else { break }
            best = entry.keyLocation ?? best
            node = entry.value
        }
        return best
    }

    func keyLocation(_ path: [String]) -> SourceLocation? {
        var node: ConfigNode? = configuration.tree
        var location: SourceLocation?
        for key in path {
            guard let entry = node?.entry(key) else { return nil }
            location = entry.keyLocation
            node = entry.value
        }
        return location
    }
}
