import Yams

/// Why a configuration could not be read at all (as opposed to read with findings).
public struct ConfigLoadError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Turns YAML text into a `ConfigNode` tree with locations, through Yams' composer.
public enum YAMLDocument {
    public static func parse(_ text: String, file: String) throws(ConfigLoadError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw describe(error, file: file)
        } catch {
            throw ConfigLoadError(location: SourceLocation(file: file), message: "could not parse YAML: \(error)")
        }
        guard let root else { return ConfigNode(.null, location: SourceLocation(file: file, line: 1, column: 1)) }
        return convert(root, file: file)
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line, column: mark?.column)
    }

    private static func convert(_ node: Node, file: String) -> ConfigNode {
        let here = location(node.mark, file)
        switch node {
        case let .scalar(scalar):
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                return ConfigNode(.null, location: here)
            }
            return ConfigNode(.scalar(scalar.string, plain: scalar.style == .plain), location: here)
        case let .sequence(sequence):
            return ConfigNode(.sequence(sequence.map { convert($0, file: file) }), location: here)
        case let .mapping(mapping):
            let entries = mapping.map { key, value in
                ConfigNode.Entry(key: key.string ?? "\(key)", keyLocation: location(key.mark, file),
                                 value: convert(value, file: file))
            }
            return ConfigNode(.mapping(entries), location: here)
        case let .alias(alias):
            // Aliases are resolved by the composer; an unresolved one is kept as its name.
            return ConfigNode(.scalar("*\(alias.anchor.rawValue)", plain: false), location: here)
        }
    }

    private static func describe(_ error: YamlError, file: String) -> ConfigLoadError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            return ConfigLoadError(location: location(mark, file), message: "invalid YAML: \(problem)\(while_)")
        case let .reader(problem, _, _, _):
            return ConfigLoadError(location: SourceLocation(file: file), message: "cannot read YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ConfigLoadError(location: location(context.mark, file),
                                   message: "invalid YAML: duplicate keys \(duplicates.joined(separator: ", "))")
        default:
            return ConfigLoadError(location: SourceLocation(file: file), message: "invalid YAML: \(error)")
        }
    }
}
