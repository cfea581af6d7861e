import Foundation

/// A configuration file as read from disk, with what the validator needs to know about it.
public struct ConfigFile: Sendable {
    public var path: String
    /// Permission bits (e.g. 0o644); nil when the configuration came from the environment.
    public var permissions: UInt16?
    public var text: String
}

/// The configuration as loaded: typed values, where they came from, and what reading found.
public struct LoadedConfiguration: Sendable {
    public var configuration: Configuration
    public var files: [ConfigFile]
    /// Wrong shapes and unknown keys found while reading (the validator adds the rest).
    public var readDiagnostics: [Diagnostic]
    /// Whether `watchdog.device` exists and this user may write to it (checked only in
    /// required mode, where a node without one never leads).
    public var watchdogDeviceWritable = true
}

/// Where Patroni (and so Vigil) finds its configuration: a file, a directory of `*.yml` /
/// `*.yaml` files merged in name order, or the whole YAML in `PATRONI_CONFIGURATION`;
/// `PATRONI_*` / `VIGIL_*` variables are laid over the result.
public enum ConfigSource {
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigLoadError) -> LoadedConfiguration {
        var files: [ConfigFile] = []
        var tree = ConfigNode(.mapping([]))
        if let path {
            for file in try readFiles(at: path) {
                let document = try YAMLDocument.parse(file.text, file: file.path)
                guard document.entries != nil || document.isNull else {
                    throw ConfigLoadError(location: document.location ?? SourceLocation(file: file.path),
                                          message: "the configuration must be a YAML mapping of keys, found \(document.kindName)")
                }
                tree = tree.merged(with: document.isNull ? ConfigNode(.mapping([])) : document)
                files.append(file)
            }
        } else if let inline = environment["VIGIL_CONFIGURATION"] ?? environment["PATRONI_CONFIGURATION"] {
            tree = try YAMLDocument.parse(inline, file: "$PATRONI_CONFIGURATION")
        }
        tree = EnvironmentOverrides.apply(to: tree, environment: environment)
        let (configuration, diagnostics) = Configuration.read(tree)
        var loaded = LoadedConfiguration(configuration: configuration, files: files, readDiagnostics: diagnostics)
        if configuration.watchdog.mode == .required {
            loaded.watchdogDeviceWritable = access(configuration.watchdog.device, W_OK) == 0
        }
        return loaded
    }

    static func readFiles(at path: String) throws(ConfigLoadError) -> [ConfigFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigLoadError(location: SourceLocation(file: path), message: "cannot read the configuration: no such file")
        }
        guard isDirectory.boolValue else { return [try readFile(path)] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw ConfigLoadError(location: SourceLocation(file: path),
                                  message: "cannot list the configuration directory: permission denied or unreadable")
        }
        let yamlFiles = names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        guard !yamlFiles.isEmpty else {
            throw ConfigLoadError(location: SourceLocation(file: path),
                                  message: "the configuration directory has no *.yml or *.yaml file")
        }
        var files: [ConfigFile] = []
        for name in yamlFiles {
            files.append(try readFile((path as NSString).appendingPathComponent(name)))
        }
        return files
    }

    static func readFile(_ path: String) throws(ConfigLoadError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigLoadError(location: SourceLocation(file: path),
                                  message: "cannot read the configuration: permission denied or not a regular file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigLoadError(location: SourceLocation(file: path), message: "the configuration is not UTF-8 text")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let permissions = (attributes?[.posixPermissions] as? NSNumber).map { UInt16(truncating: $0) }
        return ConfigFile(path: path, permissions: permissions, text: text)
    }
}
