import VigilCore

extension ConfigNode {
    /// The node as JSON, scalars typed the way Patroni's YAML 1.1 loader types them (plain
    /// `30` a number, `true`/`on` a flag, `~` null, quoted text always text): this is how
    /// `bootstrap.dcs` becomes the store's `config` key.
    public var jsonValue: JSONValue {
        switch value {
        case .null:
            return .null
        case let .scalar(text, plain):
            guard plain else { return .string(text) }
            if let flag = ConfigScalar.bool(text), !["y", "n"].contains(text.lowercased()) { return .bool(flag) }
            if let number = Int64(text) { return .int(number) }
            if text.contains("."), let number = Double(text) { return .double(number) }
            return .string(text)
        case let .sequence(items):
            return .array(items.map(\.jsonValue))
        case let .mapping(entries):
            return .object(entries.map { ($0.key, $0.value.jsonValue) })
        }
    }

    /// A JSON value (the store's `config` key) as a node the typed readers understand.
    public init(json: JSONValue, location: SourceLocation) {
        switch json {
        case .null: self.init(.null, location: location)
        case let .bool(b): self.init(.scalar(b ? "true" : "false", plain: true), location: location)
        case let .int(i): self.init(.scalar(String(i), plain: true), location: location)
        case let .double(d): self.init(.scalar(String(d), plain: true), location: location)
        case let .string(s): self.init(.scalar(s, plain: false), location: location)
        case let .array(items): self.init(.sequence(items.map { ConfigNode(json: $0, location: location) }), location: location)
        case let .object(entries):
            self.init(.mapping(entries.map { Entry(key: $0.key, keyLocation: location, value: ConfigNode(json: $0.value, location: location)) }),
                      location: location)
        }
    }
}

extension DynamicConfig {
    /// Reads the cluster-wide configuration from the store's `config` key. Values of the wrong
    /// shape are reported (with the key's name as their location) and left at their defaults.
    public static func read(json: JSONValue, key: String) -> (DynamicConfig, [Diagnostic]) {
        let reader = ConfigReader(root: ConfigNode(json: json, location: SourceLocation(file: key)))
        return (DynamicConfig(reader.top), reader.diagnostics)
    }

    /// The settings the HA engine runs with: effective timings (the rule applied), lag limit,
    /// primary start timeout, timeline check and pause.
    public var engineSettings: EngineSettings {
        EngineSettings(timings: timings.effective().timings,
                       maximumLagOnFailover: Int64(maximumLagOnFailover ?? 1_048_576),
                       primaryStartTimeout: .seconds(primaryStartTimeout ?? 300),
                       checkTimeline: checkTimeline ?? false,
                       paused: pause ?? false)
    }
}
