import VigilConfig
import VigilSystem

/// One way of making a replica's data directory, tried in the order of
/// `postgresql.create_replica_methods` (Patroni's rules): `basebackup` is pg_basebackup from
/// the member cloned from; any other name is a command (the method's `command`, else its
/// name) run with `--scope=… --role=replica --datadir=… --connstring=…` and every other key of
/// its section as `--key=value`, or with the section's keys alone under `no_params`. The
/// first that succeeds wins; a method that fails leaves an empty data directory (its own
/// files kept under `keep_data`) for the next.
public struct ReplicaMethod: Sendable, Equatable {
    public var name: String
    /// The command line, split as a shell would (`wal-g backup-fetch`); empty for basebackup.
    public var command: [String]
    /// The section's keys, in order, without `command`.
    public var options: [Option]
    /// Whatever the method leaves in the data directory when it fails is kept (and it finds
    /// the directory as it was, rather than emptied first).
    public var keepData: Bool
    /// Only the section's keys are passed, not the scope, role, data directory and source.
    public var noParams: Bool

    public struct Option: Sendable, Equatable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public static let basebackup = ReplicaMethod(name: "basebackup", command: [], options: [], keepData: false, noParams: false)

    public var isBasebackup: Bool { name == "basebackup" }

    public init(name: String, command: [String], options: [Option], keepData: Bool, noParams: Bool) {
        self.name = name
        self.command = command
        self.options = options
        self.keepData = keepData
        self.noParams = noParams
    }

    /// The methods a configuration names, in its order (basebackup alone when it names none).
    public static func configured(_ postgresql: PostgresConfig) -> [ReplicaMethod] {
        let names = postgresql.createReplicaMethods.isEmpty ? ["basebackup"] : postgresql.createReplicaMethods
        return names.map { name in
            guard name != "basebackup" else { return .basebackup }
            var options: [Option] = []
            var command = [name]
            for entry in postgresql.replicaMethodSections[name]?.entries ?? [] {
                let value = entry.value.text ?? ""
                if entry.key == "command" { command = ShellWords.split(value) ?? [value] } else { options.append(Option(entry.key, value)) }
            }
            func flag(_ key: String) -> Bool {
                options.first { $0.key == key }.map { ["true", "yes", "on", "1"].contains($0.value.lowercased()) } ?? false
            }
            return ReplicaMethod(name: name, command: command, options: options, keepData: flag("keep_data"), noParams: flag("no_params"))
        }
    }

    /// The arguments after the command: Patroni passes the section's keys (and, unless
    /// `no_params`, the four it adds) as `--key=value`, in that order; under `no_params` its
    /// own flags are left out.
    public func arguments(scope: String, dataDirectory: String, connstring: String) -> [String] {
        var pairs = options
        if noParams {
            pairs.removeAll { ["no_params", "no_leader", "keep_data"].contains($0.key) }
        } else {
            for (key, value) in [("scope", scope), ("role", "replica"), ("datadir", dataDirectory), ("connstring", connstring)] {
                pairs.removeAll { $0.key == key }
                pairs.append(Option(key, value))
            }
        }
        return pairs.map { "--\($0.key)=\($0.value)" }
    }
}
