/// Where a configuration value came from: a line of a YAML file, or an environment variable.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil for values that came from the environment.
    public var line: Int?
    public var column: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func environment(_ variable: String) -> SourceLocation {
        SourceLocation(file: "$\(variable)")
    }

    public var description: String {
        switch (line, column) {
        case let (line?, column?): "\(file):\(line):\(column)"
        case let (line?, nil): "\(file):\(line)"
        default: file
        }
    }
}

/// A YAML document as Vigil reads it: mappings keep their key order and every node
/// remembers its location, so a finding can name the line it is about. Scalars stay
/// text until a typed reader asks for a number or a flag, the way Patroni's YAML 1.1
/// loader would have read them.
public struct ConfigNode: Sendable {
    public enum Value: Sendable {
        /// `plain` is false for quoted scalars: `"on"` is the string on, `on` is a flag.
        case scalar(String, plain: Bool)
        case sequence([ConfigNode])
        case mapping([Entry])
        case null
    }

    public struct Entry: Sendable {
        public var key: String
        public var keyLocation: SourceLocation?
        public var value: ConfigNode

        public init(key: String, keyLocation: SourceLocation? = nil, value: ConfigNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var value: Value
    public var location: SourceLocation?

    public init(_ value: Value, location: SourceLocation? = nil) {
        self.value = value
        self.location = location
    }

    public subscript(key: String) -> ConfigNode? {
        guard case let .mapping(entries) = value else { return nil }
        return entries.last(where: { $0.key == key })?.value
    }

    public func entry(_ key: String) -> Entry? {
        guard case let .mapping(entries) = value else { return nil }
        return entries.last(where: { $0.key == key })
    }

    public var entries: [Entry]? {
        if case let .mapping(entries) = value { return entries }
        return nil
    }

    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// The scalar's text, whether quoted or not.
    public var text: String? {
        if case let .scalar(text, _) = value { return text }
        return nil
    }

    /// A short description of the node's kind for error messages.
    public var kindName: String {
        switch value {
        case .scalar: "a value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .null: "nothing"
        }
    }

    /// `other` laid over `self`: mappings merge key by key, anything else is replaced.
    /// This is how several files of a config directory, and environment overrides, combine.
    public func merged(with other: ConfigNode) -> ConfigNode {
        guard case var .mapping(mine) = value, case let .mapping(theirs) = other.value else {
            return other
        }
        for entry in theirs {
            if let index = mine.lastIndex(where: { $0.key == entry.key }) {
                mine[index].value = mine[index].value.merged(with: entry.value)
            } else {
                mine.append(entry)
            }
        }
        return ConfigNode(.mapping(mine), location: location ?? other.location)
    }

    /// Sets a value at a path of mapping keys, creating mappings on the way.
    public func setting(_ path: [String], to node: ConfigNode) -> ConfigNode {
        guard let key = path.first else { return node }
        var entries = self.entries ?? []
        let rest = Array(path.dropFirst())
        if let index = entries.lastIndex(where: { $0.key == key }) {
            entries[index].value = entries[index].value.setting(rest, to: node)
        } else {
            entries.append(Entry(key: key, keyLocation: node.location,
                                 value: ConfigNode(.mapping([])).setting(rest, to: node)))
        }
        return ConfigNode(.mapping(entries), location: location)
    }
}
