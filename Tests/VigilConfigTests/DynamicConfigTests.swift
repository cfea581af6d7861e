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

    /// Slots as Patroni reads them: the retention with a unit, permanent slots physical unless
    /// they say logical with a database and a plugin, ignore rules as given; a name PostgreSQL
    /// would refuse is named and left out.
    @Test func slotSettingsAreReadAsPatroniReadsThem() throws {
        let json = try JSONValue.parse(#"""
            {"member_slots_ttl":"30min","slots":{"backup":null,"archiver":{"type":"physical"},"cdc":{"type":"logical","database":"app","plugin":"pgoutput"},
             "Bad-Name":{"type":"physical"}},"ignore_slots":[{"name":"ext","type":"logical"},{"plugin":"wal2json"}],"postgresql":{"use_slots":true}}
            """#)
        let (dynamic, problems) = DynamicConfig.read(json: json, key: "/db/c/config")
        #expect(problems.map(\.path) == ["slots.Bad-Name"], "\(problems.map(\.rendered))")
        let slots = dynamic.engineSettings.slots
        #expect(slots.useSlots && slots.memberSlotsTTL == .seconds(1800))
        #expect(slots.permanent == [PermanentSlot(name: "backup"), PermanentSlot(name: "archiver"),
                                    PermanentSlot(name: "cdc", kind: .logical(database: "app", plugin: "pgoutput"))])
        #expect(slots.ignore == [SlotMatcher(name: "ext", type: "logical"), SlotMatcher(plugin: "wal2json")])
        #expect(slots.ignores(ReplicationSlot(name: "ext", type: "logical", active: false, restartLSN: nil)))
        #expect(!slots.ignores(ReplicationSlot(name: "ext", type: "physical", active: false, restartLSN: nil)))

        for (value, seconds) in [("0", 0), ("90", 90), ("\"2h\"", 7200), ("\"1500ms\"", 2), ("\"1d\"", 86400)] {
            let (read, _) = DynamicConfig.read(json: try JSONValue.parse(#"{"member_slots_ttl":\#(value)}"#), key: "/db/c/config")
            #expect(read.engineSettings.slots.memberSlotsTTL == .seconds(seconds), "\(value)")
        }
        let (bad, badProblems) = DynamicConfig.read(json: try JSONValue.parse(#"{"member_slots_ttl":"soon"}"#), key: "/db/c/config")
        #expect(badProblems.map(\.path) == ["member_slots_ttl"] && bad.engineSettings.slots.memberSlotsTTL == .seconds(1800))
        #expect(DynamicConfig.read(json: try JSONValue.parse("{}"), key: "/db/c/config").0.engineSettings.slots
                == SlotSettings(), "Patroni's defaults: use_slots on, 30 minutes")
    }

    @Test func aWrongTypeInTheConfigKeyIsReportedWithTheKeysName() throws {
        let (dynamic, problems) = DynamicConfig.read(json: try JSONValue.parse(#"{"ttl":"soon","loop_wait":5}"#), key: "/db/c/config")
        #expect(problems.map(\.path) == ["ttl"])
        #expect(problems.first?.location?.file == "/db/c/config")
        #expect(dynamic.engineSettings.timings.ttl == 30 && dynamic.loopWait == 5)
    }

    /// A value from outside that no agent could use (too large, negative, the wrong type) is
    /// named, and the value in force is kept: never a default that unpauses a cluster, never a
    /// number that overflows what is computed from it.
    @Test func unusableValuesAreNamedAndKeepTheValuesInForce() throws {
        let inForce = DynamicConfig.read(json: try JSONValue.parse(
            #"{"ttl":20,"loop_wait":2,"retry_timeout":5,"pause":true,"maximum_lag_on_failover":4096}"#), key: "/db/c/config").0
        let hostile = try JSONValue.parse(
            #"{"ttl":20,"loop_wait":9223372036854775807,"retry_timeout":-3,"pause":"maybe","maximum_lag_on_failover":99999999999999999999,"max_timelines_history":"many"}"#)
        let (dynamic, problems) = DynamicConfig.read(json: hostile, key: "/db/c/config", lastGood: inForce)
        #expect(Set(problems.map(\.path)) == ["loop_wait", "retry_timeout", "pause", "maximum_lag_on_failover", "max_timelines_history"])
        #expect(problems.allSatisfy { $0.severity == .error && DynamicConfig.unusableValueCodes.contains($0.code) })
        let loopWait = try #require(problems.first { $0.path == "loop_wait" })
        #expect(loopWait.code == "out-of-range")
        #expect(loopWait.rendered.hasSuffix(
            "error: loop_wait: expected a whole number from 0 to 31536000, found 9223372036854775807. Fix: write a whole number from 0 to 31536000 here."),
            "\(loopWait.rendered)")
        #expect(dynamic.loopWait == 2 && dynamic.retryTimeout == 5 && dynamic.pause == true && dynamic.maximumLagOnFailover == 4096)
        #expect(dynamic.maxTimelinesHistory == nil, "no value in force: the default")
        #expect(dynamic.engineSettings.timings == HATimings(ttl: 20, loopWait: 2, retryTimeout: 5))
        #expect(dynamic.engineSettings.paused)
        // With nothing in force (the first read), the defaults.
        let (fresh, _) = DynamicConfig.read(json: hostile, key: "/db/c/config")
        #expect(fresh.loopWait == nil && fresh.pause == nil && fresh.ttl == 20)
    }

    @Test func aConfigurationIsJudgedByTheFirstValueNoAgentCouldUse() throws {
        #expect(DynamicConfig.firstUnusableValue(in: try JSONValue.parse(#"{"ttl":30,"loop_wait":10,"synchronous_mode":"off"}"#)) == nil)
        #expect(DynamicConfig.firstUnusableValue(in: try JSONValue.parse(#"{"loop_wait":9223372036854775807}"#))
                == "loop_wait: expected a whole number from 0 to 31536000, found 9223372036854775807.")
        #expect(DynamicConfig.firstUnusableValue(in: try JSONValue.parse(#"{"postgresql":{"use_slots":"perhaps"}}"#))?
            .hasPrefix("postgresql.use_slots: expected true or false") == true)
        #expect(DynamicConfig.firstUnusableValue(in: .array([])) == "the configuration must be a JSON object")
    }
}
