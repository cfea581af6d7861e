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
    /// shape or out of range are reported (with the key's name as their location) and keep
    /// the last good value, else their default.
    /// - Parameter lastGood: the settings in force; a value present but unusable keeps its
    ///   value from there (see `init(_:lastGood:)`).
    public static func read(json: JSONValue, key: String, lastGood: DynamicConfig? = nil) -> (DynamicConfig, [Diagnostic]) {
        let reader = ConfigReader(root: ConfigNode(json: json, location: SourceLocation(file: key)))
        return (DynamicConfig(reader.top, lastGood: lastGood), reader.diagnostics)
    }

    /// Findings that mean a value cannot be used at all (not merely unwise).
    public static let unusableValueCodes: Set<String> = ["wrong-type", "out-of-range"]

    /// The first value of `json` the agents could not use, in words naming its key; nil when
    /// every value is usable. `PATCH` and `PUT /config` refuse such a configuration.
    public static func firstUnusableValue(in json: JSONValue) -> String? {
        guard json.objectValue != nil else { return "the configuration must be a JSON object" }
        let (_, diagnostics) = read(json: json, key: "config")
        guard let bad = diagnostics.first(where: { $0.severity == .error && unusableValueCodes.contains($0.code) }) else {
            return nil
        }
        return "\(bad.path): \(bad.message)"
    }

    /// The settings the HA engine runs with: effective timings (the rule applied), lag limit,
    /// primary start and stop timeouts, timeline check, pause and synchronous replication.
    public var engineSettings: EngineSettings {
        EngineSettings(timings: timings.effective().timings,
                       maximumLagOnFailover: Int64(maximumLagOnFailover ?? 1_048_576),
                       primaryStartTimeout: .seconds(primaryStartTimeout ?? 300),
                       checkTimeline: checkTimeline ?? false,
                       paused: pause ?? false,
                       sync: syncSettings,
                       primaryStopTimeout: primaryStopTimeout.map { .seconds($0) },
                       slots: slotSettings)
    }

    /// Replication slots as configured, with Patroni's defaults (`use_slots` on, a departed
    /// member's slot kept 30 minutes).
    public var slotSettings: SlotSettings {
        SlotSettings(useSlots: postgresql.useSlots ?? true,
                     memberSlotsTTL: memberSlotsTTL.map { .seconds($0) } ?? SlotSettings.defaultMemberSlotsTTL,
                     permanent: slots ?? [], ignore: ignoreSlots ?? [])
    }

    /// Synchronous replication as configured (a standby cluster never runs it, as in Patroni).
    public var syncSettings: SyncSettings {
        let mode = standbyCluster == nil ? synchronousMode ?? .off : .off
        return SyncSettings(mode: mode, strict: synchronousModeStrict ?? false, nodeCount: synchronousNodeCount ?? 1,
                            maximumLagOnSyncnode: Int64(maximumLagOnSyncnode ?? -1))
    }
}
