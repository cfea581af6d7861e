import Foundation
import Testing
import VigilConfig
import VigilCore

/// The cluster-wide configuration: written to the store from bootstrap.dcs, read back from it.
@Suite struct DynamicConfigTests {
    @Test func theGuidesBootstrapDcsBecomesPatronisConfigKey() throws {
        let loaded = try ConfigSource.load(path: try Fixtures.guideFile("patroni-ct104.yml"), environment: [:])
        let json = try #require(loaded.configuration.bootstrap.dcsNode).jsonValue
        #expect(json.compactText == #"{"ttl":30,"loop_wait":10,"retry_timeout":30,"maximum_lag_on_failover":1048576,"postgresql":{"use_pg_rewind":true,"use_slots":true,"parameters":{"wal_level":"replica","hot_standby":"on","wal_keep_segments":8,"max_wal_senders":3,"max_replication_slots":3,"checkpoint_timeout":30}}}"#)
    }

    @Test func theConfigKeyReadsBackIntoEngineSettings() throws {
        let json = try JSONValue.parse(#"{"ttl":30,"loop_wait":10,"retry_timeout":30,"maximum_lag_on_failover":2048,"pause":true,"primary_start_timeout":0,"postgresql":{"use_pg_rewind":true,"parameters":{"max_connections":200}}}"#)
        let (dynamic, problems) = DynamicConfig.read(json: json, key: "/db/c/config")
        #expect(problems.isEmpty)
        let settings = dynamic.engineSettings
        #expect(settings.timings == HATimings(ttl: 30, loopWait: 1, retryTimeout: 14), "the timing rule applies to the store's values too")
        #expect(settings.maximumLagOnFailover == 2048 && settings.paused && settings.primaryStartTimeout == .zero)
        #expect(dynamic.postgresql.usePgRewind == true)
        #expect(dynamic.postgresql.parameters.first?.value == "200")
    }

    @Test func aWrongTypeInTheConfigKeyIsReportedWithTheKeysName() throws {
        let (dynamic, problems) = DynamicConfig.read(json: try JSONValue.parse(#"{"ttl":"soon","loop_wait":5}"#), key: "/db/c/config")
        #expect(problems.map(\.path) == ["ttl"])
        #expect(problems.first?.location?.file == "/db/c/config")
        #expect(dynamic.engineSettings.timings.ttl == 30 && dynamic.loopWait == 5)
    }
}
