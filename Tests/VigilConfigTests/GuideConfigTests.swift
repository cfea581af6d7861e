import Foundation
import Testing
@testable import VigilConfig
import VigilTestSupport

/// The guide's own configs, as printed: every mistake the foundation issue lists is found.
@Suite struct GuideConfigTests {
    @Test func fixturesAreTheGuidesBlocksVerbatim() throws {
        let guide = try String(contentsOf: TestTools.repositoryRoot
            .appendingPathComponent("../shared/seed/guide-postgresql18-ha-ru.md"), encoding: .utf8)
        let yamlBlocks = guide.components(separatedBy: "```yaml\n").dropFirst()
            .map { $0.components(separatedBy: "```")[0] }
        #expect(yamlBlocks.contains(try Fixtures.guideText("patroni-ct104.yml")))
        #expect(yamlBlocks.contains(try Fixtures.guideText("patroni-ct105.yml")))
    }

    @Test func ct104IsValidWithWarnings() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        #expect(report.outcome == .valid)
        #expect(!report.diagnostics.hasErrors, "\(report.lines)")
        #expect(report.lines.last?.contains("valid: 0 errors") == true)
    }

    @Test func ct104WalKeepSegmentsSuggestsWalKeepSize() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        let finding = try #require(report.findings("wal-keep-segments").first)
        #expect(finding.severity == .warning)
        #expect(finding.path == "bootstrap.dcs.postgresql.parameters.wal_keep_segments")
        #expect(finding.location?.line == 24)
        #expect(finding.message.contains("PostgreSQL 13"))
        #expect(finding.fix.contains("wal_keep_size: 128MB"))
    }

    @Test func ct104EtcdSectionIsTheV2API() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        let finding = try #require(report.findings("etcd-v2-api").first)
        #expect(finding.severity == .warning)
        #expect(finding.location?.line == 9)
        #expect(finding.message.contains("3.4") && finding.message.contains("3.6"))
        #expect(finding.fix.contains("etcd3:"))
    }

    @Test func ct104TimingRuleNamesTheEffectiveValues() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        let finding = try #require(report.findings("timing-rule").first)
        #expect(finding.severity == .warning)
        #expect(finding.message.contains("10 + 2 × 30 = 70 > 30"))
        #expect(finding.message.contains("ttl 30, loop_wait 1, retry_timeout 14"))
        #expect(finding.location?.line == 14)
    }

    @Test func ct104PasswordsInAWorldReadableFile() throws {
        let readable = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml", mode: 0o644))
        let finding = try #require(readable.findings("world-readable-secrets").first)
        #expect(finding.severity == .warning)
        #expect(finding.message.contains("mode 644"))
        #expect(finding.message.contains("postgresql.authentication.superuser.password"))
        #expect(finding.fix.contains("chmod 600"))

        let privateFile = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml", mode: 0o600))
        #expect(privateFile.findings("world-readable-secrets").isEmpty)
    }

    @Test func ct104MaxReplicationSlotsBelowMinimum() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        let finding = try #require(report.findings("parameter-below-minimum").first)
        #expect(finding.path == "bootstrap.dcs.postgresql.parameters.max_replication_slots")
        #expect(finding.message.contains("default 10"))
    }

    @Test func ct104BootstrapUsersAreHonoured() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct104.yml"))
        let finding = try #require(report.findings("bootstrap-users").first)
        #expect(finding.severity == .info)
        #expect(finding.message.contains("sqlUser (createdb)"))
    }

    @Test func ct105IsInvalidAndNamesTheMissingKeys() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct105.yml"))
        #expect(report.outcome == .invalid)
        let missing = report.findings("missing-key").map(\.path)
        #expect(missing == ["postgresql.authentication.superuser.username",
                            "postgresql.authentication.replication.username"])
        let first = try #require(report.findings("missing-key").first)
        #expect(first.severity == .error)
        #expect(first.message.contains("line 17"))
        #expect(report.findings("no-bootstrap").count == 1)
    }

    @Test func ct105ConnectAddressPointsAtTheRestPort() throws {
        let report = Fixtures.check(try Fixtures.guideFile("patroni-ct105.yml"))
        let finding = try #require(report.findings("connect-address-is-rest-port").first)
        #expect(finding.severity == .error)
        #expect(finding.path == "postgresql.connect_address")
        #expect(finding.location?.line == 15)
        #expect(finding.fix.contains("192.168.50.22:5432"))
    }

    @Test func noPasswordEverReachesTheOutput() throws {
        for name in ["patroni-ct104.yml", "patroni-ct105.yml"] {
            let report = Fixtures.check(try Fixtures.guideFile(name, mode: 0o644))
            for line in report.lines {
                #expect(!line.contains("Qwe1234!") && !line.contains("Replicator123!"), "\(line)")
            }
        }
    }

    @Test func ct104ReadsIntoTypedValues() throws {
        let loaded = try ConfigSource.load(path: try Fixtures.guideFile("patroni-ct104.yml"), environment: [:])
        let c = loaded.configuration
        #expect(c.scope == "postgres_cluster")
        #expect(c.namespace == "/db/")
        #expect(c.name == "postgres104")
        #expect(c.restAPI.listen == "192.168.50.21:8008")
        #expect(c.dcs?.kind == .etcdV2Section)
        #expect(c.dcs?.hosts == ["192.168.50.1:2379"])
        #expect(c.bootstrap.dcs.timings.ttl == 30 && c.bootstrap.dcs.timings.retryTimeout == 30)
        #expect(c.bootstrap.dcs.maximumLagOnFailover == 1_048_576)
        #expect(c.bootstrap.dcs.postgresql.usePgRewind == true)
        #expect(c.bootstrap.dcs.postgresql.parameters["hot_standby"]?.value == "on")
        #expect(c.bootstrap.dcs.postgresql.parameters["checkpoint_timeout"]?.value == "30")
        #expect(c.bootstrap.initdb == [.value("encoding", "UTF8"), .flag("data-checksums")])
        #expect(c.bootstrap.initdb.map(\.argument) == ["--encoding=UTF8", "--data-checksums"])
        #expect(c.bootstrap.pgHBA == ["host replication replicator 192.168.50.0/24 md5",
                                      "host all all 192.168.50.0/24 md5"])
        #expect(c.bootstrap.users.map(\.name) == ["replicator", "sqlUser"])
        #expect(c.bootstrap.users[1].options == ["createdb"])
        #expect(c.bootstrap.users[1].password?.value == "Qwe1234!")
        #expect(c.postgresql.dataDir == "/var/lib/pgsql/18/data")
        #expect(c.postgresql.authentication.replication?.username == "replicator")
        #expect(c.postgresql.authentication.superuser?.password?.value == "Qwe1234!")
        #expect(c.postgresql.parameters["unix_socket_directories"]?.value == "/var/run/postgresql")
        #expect(c.tags == Tags.none)
        #expect(loaded.readDiagnostics.isEmpty, "\(loaded.readDiagnostics.map(\.rendered))")
    }
}
