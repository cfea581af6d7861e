import Foundation
import Testing
import VigilCore
@testable import VigilConfig

/// How a file becomes typed values: overrides, unknown keys, wrong shapes, unreadable files.
@Suite struct ConfigReadingTests {
    @Test func minimalConfigIsValidWithoutFindings() throws {
        let report = Fixtures.check(try Fixtures.file(Fixtures.minimal))
        #expect(report.outcome == .valid)
        #expect(report.diagnostics.isEmpty, "\(report.lines)")
    }

    @Test func environmentOverridesTheFileAndVigilWinsOverPatroni() throws {
        let loaded = try Fixtures.load(Fixtures.minimal, environment: [
            "PATRONI_NAME": "from-patroni",
            "VIGIL_NAME": "from-vigil",
            "PATRONI_RESTAPI_LISTEN": "127.0.0.9:8009",
            "PATRONI_ETCD3_HOSTS": "'127.0.0.2:2379','127.0.0.3:2379'",
            "PATRONI_SUPERUSER_PASSWORD": "from-env",
            "PATRONI_REPLICATION_USERNAME": "repl2",
            "PATRONI_POSTGRESQL_BIN_PG_CTL": "/opt/pg/pg_ctl",
            "PATRONI_POSTGRESQL_BIN_DIR": "/opt/pg/bin",
            "PATRONI_RESTAPI_ALLOWLIST": "127.0.0.1, 10.0.0.0/8",
            "PATRONI_LOG_LEVEL": "DEBUG",
            "PATRONI_SOMETHING_INTERNAL": "ignored",
        ])
        let c = loaded.configuration
        #expect(c.name == "from-vigil")
        #expect(c.restAPI.listen == "127.0.0.9:8009")
        #expect(c.dcs?.hosts == ["127.0.0.2:2379", "127.0.0.3:2379"])
        #expect(c.postgresql.authentication.superuser?.password?.value == "from-env")
        #expect(c.postgresql.authentication.superuser?.username == "postgres")
        #expect(c.postgresql.authentication.replication?.username == "repl2")
        #expect(c.postgresql.binName["pg_ctl"] == "/opt/pg/pg_ctl")
        #expect(c.postgresql.binDir == "/opt/pg/bin")
        #expect(c.restAPI.allowlist == ["127.0.0.1", "10.0.0.0/8"])
        #expect(c.log?["level"]?.text == "DEBUG")
        #expect(loaded.readDiagnostics.isEmpty, "\(loaded.readDiagnostics.map(\.rendered))")
    }

    @Test func environmentAloneCanConfigureANode() throws {
        let loaded = try ConfigSource.load(path: nil, environment: ["PATRONI_CONFIGURATION": Fixtures.minimal,
                                                                     "PATRONI_SCOPE": "other"])
        #expect(loaded.configuration.scope == "other")
        #expect(loaded.configuration.name == "node1")
    }

    @Test func passwordsFromTheEnvironmentAreNotReportedAsInTheFile() throws {
        let text = Fixtures.minimal.replacingOccurrences(of: "password: secretsuper", with: "password: x")
        let path = try Fixtures.file(text, mode: 0o644)
        let loaded = try ConfigSource.load(path: path, environment: ["PATRONI_SUPERUSER_PASSWORD": "y"])
        let finding = try #require(ConfigValidator.validate(loaded).first { $0.code == "world-readable-secrets" })
        #expect(!finding.message.contains("superuser.password"))
        #expect(finding.message.contains("replication.password"))
    }

    /// Synchronous replication is run, not refused: on/true (priority), quorum, off; anything
    /// else is an error naming the key.
    @Test func synchronousModesAreAcceptedAndTypoesNamed() throws {
        for (value, mode) in [("true", SyncSettings.Mode.priority), ("on", .priority), ("quorum", .quorum), ("Quorum", .quorum),
                              ("off", .off), ("false", .off)] {
            let text = Fixtures.minimal.replacingOccurrences(of: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10}",
                                                             with: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10, synchronous_mode: \(value), synchronous_mode_strict: true, synchronous_node_count: 2}")
            let report = Fixtures.check(try Fixtures.file(text))
            #expect(report.diagnostics.allSatisfy { $0.severity != .error }, "\(value): \(report.diagnostics)")
            let loaded = try ConfigSource.load(path: try Fixtures.file(text), environment: [:])
            let sync = loaded.configuration.bootstrap.dcs.engineSettings.sync
            #expect(sync.mode == mode, "\(value)")
            #expect(sync.strict && sync.nodeCount == 2)
        }
        let typo = Fixtures.minimal.replacingOccurrences(of: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10}",
                                                         with: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10, synchronous_mode: sometimes}")
        let finding = try #require(Fixtures.check(try Fixtures.file(typo)).diagnostics.first { $0.message.contains("synchronous_mode") })
        #expect(finding.severity == .error)
        #expect(finding.message.contains("sometimes"))
    }

    /// Keys Patroni acts on and Vigil does not yet: a warning each, naming the key, never silence
    /// (callbacks are acted on: no warning).
    @Test func keysThatAreNotActedOnAreWarnings() throws {
        let text = Fixtures.minimal.replacingOccurrences(
            of: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10}",
            with: "dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10, failsafe_mode: true, member_slots_ttl: 30min, slots: {backup: {type: physical}, cdc: {database: app, plugin: pgoutput}}}")
            + """

            watchdog: {mode: required, device: /dev/watchdog}
            """
        let withMethods = text.replacingOccurrences(of: "  data_dir: /tmp/data", with: """
              data_dir: /tmp/data
              create_replica_methods: [wal_e, basebackup]
              wal_e: {command: /usr/local/bin/restore-from-wal-e, no_leader: true, threads: 4}
              callbacks: {on_role_change: /usr/local/bin/move-vip, on_start: /bin/true}
            """)
        let report = Fixtures.check(try Fixtures.file(withMethods))
        let warnings = report.findings("not-acted-on")
        #expect(Set(warnings.map(\.path)) == ["postgresql.wal_e.no_leader", "bootstrap.dcs.slots",
                                              "bootstrap.dcs.failsafe_mode"],
                "\(warnings.map(\.rendered))")
        #expect(warnings.allSatisfy { $0.severity == .warning && $0.message.hasSuffix("Vigil reads this key but does not act on it yet.") })
        #expect(warnings.first { $0.path == "postgresql.wal_e.no_leader" }?.message
            .hasPrefix("a replica is made only while a member runs to copy from; wal_e is not tried without one.") == true)
        #expect(warnings.first { $0.path == "bootstrap.dcs.slots" }?.message
            .hasPrefix("logical slots are kept where they exist, but neither created nor copied to replicas (cdc).") == true, "physical slots are kept: no word on backup")
        #expect(Fixtures.check(try Fixtures.file(Fixtures.minimal)).findings("not-acted-on").isEmpty, "nothing to say when none is set")
    }

    /// The watchdog is acted on: what check-config says is what keeps it from working.
    @Test func watchdogFindingsNameWhatStopsIt() throws {
        func findings(_ section: String) throws -> [String: String] {
            let report = Fixtures.check(try Fixtures.file(Fixtures.minimal + "\nwatchdog: \(section)\n"))
            return Dictionary(report.diagnostics.filter { $0.code.hasPrefix("watchdog") }.map { ($0.code, $0.message) }) { a, _ in a }
        }
        let missing = try findings("{mode: required, device: /nonexistent/watchdog}")
        #expect(missing.keys.sorted() == ["watchdog-device"])
        #expect(missing["watchdog-device"]?.contains("/nonexistent/watchdog is not there or not writable") == true)
        #expect(try findings("{mode: automatic, device: /nonexistent/watchdog}").isEmpty, "automatic mode goes without")
        #expect(try findings("{mode: maybe}").keys.sorted() == ["watchdog-mode"])
        let timing = try findings("{mode: automatic, safety_margin: 25}")
        #expect(timing["watchdog-timing"]?.contains("ttl 30 less safety_margin 25 = 5 s, must exceed loop_wait 10 s by 2 s") == true
                && timing["watchdog-timing"]?.hasSuffix("no watchdog is used.") == true,
                "\(timing)")
        #expect(try findings("{mode: off, safety_margin: 25}").isEmpty)
    }

    @Test func unknownKeysAreKeptAndReportedWithASuggestion() throws {
        let text = Fixtures.minimal.replacingOccurrences(of: "  listen: 127.0.0.1:8008", with: "  lisen: 127.0.0.1:8008")
            + "\nmy_own_section: {a: 1}\n"
        let report = Fixtures.check(try Fixtures.file(text))
        let unknown = report.findings("unknown-key")
        #expect(unknown.map(\.path) == ["restapi.lisen", "my_own_section"])
        #expect(unknown[0].severity == .warning)
        #expect(unknown[0].fix == "did you mean restapi.listen?")
        #expect(unknown[0].location?.line == 5)
        // The misspelt key leaves restapi.listen missing, which is an error of its own.
        #expect(report.findings("missing-key").map(\.path) == ["restapi.listen"])
        let loaded = try Fixtures.load(text)
        #expect(loaded.configuration.tree["my_own_section"]?["a"]?.text == "1")
    }

    @Test func wrongShapesAreErrorsThatNameTheKeyAndHideSecrets() throws {
        let text = Fixtures.minimal
            .replacingOccurrences(of: "ttl: 30", with: "ttl: soon")
            .replacingOccurrences(of: "superuser: {username: postgres, password: secretsuper}",
                                  with: "superuser: {username: postgres, password: [secretsuper]}")
        let report = Fixtures.check(try Fixtures.file(text))
        #expect(report.outcome == .invalid)
        let wrong = report.findings("wrong-type")
        #expect(wrong.map(\.path) == ["bootstrap.dcs.ttl", "postgresql.authentication.superuser.password"])
        #expect(wrong[0].message == "expected a whole number, found 'soon'.")
        #expect(report.lines.allSatisfy { !$0.contains("secretsuper") })
    }

    @Test func yamlSyntaxErrorIsUnreadableWithLineAndColumn() throws {
        let path = try Fixtures.file("scope: demo\nrestapi:\n  listen: [127.0.0.1:8008\nname: x\n")
        let report = Fixtures.check(path)
        #expect(report.outcome == .unreadable)
        #expect(report.lines.count == 1)
        let line = try #require(report.lines.first)
        #expect(line.hasPrefix("\(path):4:"), "\(line)")
        #expect(line.contains("error: invalid YAML"))
    }

    @Test func missingFileIsUnreadableInOneLine() {
        let report = Fixtures.check("/nonexistent/patroni.yml")
        #expect(report.outcome == .unreadable)
        #expect(report.lines == ["/nonexistent/patroni.yml: error: cannot read the configuration: no such file"])
    }

    @Test func aDocumentThatIsNotAMappingIsUnreadable() throws {
        let report = Fixtures.check(try Fixtures.file("- just\n- a list\n"))
        #expect(report.outcome == .unreadable)
        #expect(report.lines.first?.contains("must be a YAML mapping") == true)
    }

    @Test func aDirectoryIsMergedInNameOrder() throws {
        let first = try Fixtures.file(Fixtures.minimal, name: "10-base.yml")
        let dir = (first as NSString).deletingLastPathComponent
        #expect(FileManager.default.createFile(atPath: dir + "/20-node.yaml",
                                       contents: Data("name: node2\nrestapi:\n  connect_address: 127.0.0.2:8008\n".utf8),
                                       attributes: [.posixPermissions: 0o600]))
        #expect(FileManager.default.createFile(atPath: dir + "/notes.txt", contents: Data("not yaml: [".utf8)))
        let loaded = try ConfigSource.load(path: dir, environment: [:])
        #expect(loaded.configuration.name == "node2")
        #expect(loaded.configuration.restAPI.connectAddress == "127.0.0.2:8008")
        #expect(loaded.configuration.restAPI.listen == "127.0.0.1:8008")
        #expect(loaded.files.count == 2)
    }

    @Test func secretsPrintAsAMask() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<secret>")
        #expect(String(reflecting: secret) == "<secret>")
        var dumped = ""
        dump(Credentials(username: "u", password: secret), to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test func yamlFlagsBecomePostgresOnOff() throws {
        let text = Fixtures.minimal + "\n  parameters: {wal_log_hints: true, hot_standby: \"on\", fsync: no, work_mem: 4MB}\n"
        let c = try Fixtures.load(text).configuration
        #expect(c.postgresql.parameters.map(\.value) == ["on", "on", "off", "4MB"])
    }
}

