import Foundation
import Testing
import VigilConfig
import VigilCore
@testable import VigilPostgres
import VigilTestSupport

/// How the guide's configuration becomes an instance's settings and files.
@Suite struct SettingsAndFilesTests {
    @Test func theGuidesParametersAreResolvedAsPatroniWould() throws {
        let node = try TestNode.make("postgres104")
        defer { node.directory.remove() }
        let s = node.settings
        let commandLine = Dictionary(uniqueKeysWithValues: s.commandLineParameters.map { ($0.name, $0.value) })
        #expect(commandLine["max_replication_slots"] == "10", "3 is below the minimum of 4")
        #expect(commandLine["max_wal_senders"] == "3")
        #expect(commandLine["hot_standby"] == "on" && commandLine["wal_level"] == "replica")
        let managed = Dictionary(uniqueKeysWithValues: s.parameters.map { ($0.name, $0.value) })
        #expect(managed["wal_keep_size"] == "128MB" && managed["wal_keep_segments"] == nil)
        #expect(managed["checkpoint_timeout"] == "30")
        #expect(managed["max_replication_slots"] == nil, "command-line parameters stay off the file")
        #expect(s.initdbArguments == ["--encoding=UTF8", "--data-checksums"])
        #expect(s.bootstrapRoles.map(\.credentials.username) == ["replicator", "sqlUser"])
        #expect(s.bootstrapRoles[1].options == ["createdb"])
        #expect(s.hbaLines == ["host replication replicator 127.0.0.0/8 md5", "host all all 127.0.0.0/8 md5"])
        #expect(s.usePgRewind && s.useSlots)
        #expect(s.socketDirectory == node.directory.sub("sockets"))
    }

    /// A method's command is split as a shell would; its keys become --key=value; under
    /// no_params only its own keys go, without Patroni's three flags.
    @Test func replicaMethodsTakeTheirArgumentsAsPatroniGivesThem() throws {
        let node = try TestNode.make("postgres104", postgresqlLines: [
            "create_replica_methods: [wal_g, basebackup, plain]",
            "wal_g: {command: 'wal-g backup-fetch --config \"/etc/wal g.yaml\"', keep_data: True}",
            "plain: {command: /usr/bin/restore, no_params: true, no_leader: true, target: latest}",
        ])
        defer { node.directory.remove() }
        let methods = node.settings.replicaMethods
        #expect(methods.map(\.name) == ["wal_g", "basebackup", "plain"] && methods[1] == .basebackup)
        #expect(methods[0].command == ["wal-g", "backup-fetch", "--config", "/etc/wal g.yaml"] && methods[0].keepData)
        #expect(methods[0].arguments(scope: "s", dataDirectory: "/d", connstring: "host=h")
                == ["--keep_data=True", "--scope=s", "--role=replica", "--datadir=/d", "--connstring=host=h"])
        #expect(methods[2].noParams && methods[2].arguments(scope: "s", dataDirectory: "/d", connstring: "c") == ["--target=latest"])
    }

    @Test func configurationValuesAreQuotedForPostgres() {
        #expect(ManagedFiles.quote("it's a \\path") == #"'it''s a \\path'"#)
        let text = ManagedFiles.managedConf(parameters: [("work_mem", "4MB"), ("application_name", "a'b")], upstream:
            .init(host: "10.0.0.1", port: 5432, user: "rep licator", passfile: "/p/pgpass", applicationName: "n2", slot: "n2"))
        #expect(text.contains("application_name = 'a''b'\nwork_mem = '4MB'"))
        #expect(text.contains("primary_conninfo = 'host=10.0.0.1 port=5432 user=''rep licator'' passfile=/p/pgpass application_name=n2"))
        #expect(text.contains("primary_slot_name = 'n2'"))
    }

    @Test func pgpassEscapesSeparatorsAndSkipsRolesWithoutPasswords() {
        let text = ManagedFiles.pgpass([RoleCredentials(username: "rep", password: "a:b\\c"),
                                        RoleCredentials(username: "nopass", password: nil)])
        #expect(text == "*:*:*:rep:a\\:b\\\\c\n")
    }

    /// pg_controldata's report as it prints the fields the agent reads.
    static func controldata(state: String, checkpoint: String, checkpointTimeline: Int, minRecovery: String,
                            minRecoveryTimeline: Int) -> Controldata {
        Controldata(output: """
            Database system identifier:           7441234567890123456
            Database cluster state:               \(state)
            Latest checkpoint location:           \(checkpoint)
            Latest checkpoint's TimeLineID:       \(checkpointTimeline)
            Minimum recovery ending location:     \(minRecovery)
            Min recovery ending loc's timeline:   \(minRecoveryTimeline)
            """)
    }

    @Test func controldataTellsWhereTheWALEnds() {
        let primary = Self.controldata(state: "shut down", checkpoint: "0/3000028", checkpointTimeline: 1,
                                       minRecovery: "0/0", minRecoveryTimeline: 0)
        #expect(primary.systemIdentifier == "7441234567890123456" && primary.cleanlyShutDown && !primary.wasReplica)
        #expect(primary.endOfWAL?.timeline == 1 && primary.endOfWAL?.lsn == 0x3000028)
        let replica = Self.controldata(state: "shut down in recovery", checkpoint: "0/2000060", checkpointTimeline: 1,
                                       minRecovery: "0/3000110", minRecoveryTimeline: 2)
        #expect(replica.wasReplica && replica.endOfWAL?.timeline == 2 && replica.endOfWAL?.lsn == 0x3000110)
        #expect(replica.endOfWAL?.isReplayPosition == true && primary.endOfWAL?.isReplayPosition == false)
        // A demoted primary started as a replica that replayed nothing past its shutdown
        // checkpoint: no minimum recovery point, so it ends at the checkpoint, judged as a primary.
        let demoted = Self.controldata(state: "shut down in recovery", checkpoint: "0/5000028", checkpointTimeline: 3,
                                       minRecovery: "0/0", minRecoveryTimeline: 0)
        #expect(demoted.wasReplica && demoted.endOfWAL?.lsn == 0x5000028 && demoted.endOfWAL?.isReplayPosition == false)
        #expect(TimelineDivergence.needsRewind(localTimeline: 3, localLSN: 0x5000028, inRecovery: false, primaryTimeline: 4,
                                               history: [.init(parentTimeline: 3, switchpoint: 0x5000028)]))
    }

    /// WAL positions as PostgreSQL prints them; one past Int64 is no position rather than a trap.
    @Test func walPositionsAreReadWithoutTrapping() {
        #expect(PostgresInstance.lsn("0/3000060") == 0x3000060)
        #expect(PostgresInstance.lsn("7FFFFFFF/FFFFFFFF") == .max)
        #expect(PostgresInstance.lsn("FFFFFFFF/FFFFFFFF") == nil)
        #expect(PostgresInstance.lsn(nil) == nil)
        let replica = PostgresInstance.positions(["true", nil, "0/5000000", "0/4000000"])
        #expect(replica == WALPositions(role: .replica, walPosition: 0x5000000, receiveLSN: 0x5000000, replayLSN: 0x4000000))
        let primary = PostgresInstance.positions(["false", "0/6000000", nil, nil])
        #expect(primary == WALPositions(role: .primary, walPosition: 0x6000000, receiveLSN: nil, replayLSN: nil))
    }

    /// An adopted postmaster's settings are read from its command line, so pending_restart
    /// compares with what it runs, not with what this agent would have passed.
    @Test func commandLineSettingsAreReadBack() {
        let arguments = ["/usr/lib/postgresql/18/bin/postgres", "-D", "/data", "-c", "port=5432",
                         "-c", "max_connections=100", "-c", "search_path=a=b", "--single", "-c"]
        let read = PostgresInstance.settings(onCommandLine: arguments)
        #expect(read.map(\.name) == ["port", "max_connections", "search_path"])
        #expect(read.map(\.value) == ["5432", "100", "a=b"])
    }
}
