import Foundation
import Testing
import VigilAgent
import VigilConfig
import VigilCore
import VigilDCS
import VigilTestSupport

/// Everything Vigil reads from outside, fed hostile input: the property is "a clear answer,
/// never a trap". A trap ends the test process, so surviving is the assertion that matters;
/// each test also checks that what comes back is usable (problems named, ranges kept).
@Suite struct DecoderFuzzTests {
    /// The JSON parser on raw bytes and on damaged documents.
    @Test func theJSONParserAnswersOrRefusesAnyBytes() {
        var input = FuzzInput(seed: FuzzInput.seed)
        let valid = [#"{"leader":"n1","member":"n2","scheduled_at":"2030-01-01T10:00:00+00:00"}"#,
                     #"[[1,"0/3000060","no recovery target specified","2026-11-27T15:42:10.069+00:00","n2"]]"#,
                     #"{"optime":67108960,"slots":{"n2":67108960},"retain_slots":["n1","n2"]}"#]
        var parsed = 0
        for _ in 0..<FuzzInput.iterations(3000) {
            let text = input.chance(30) ? String(decoding: input.bytes(upTo: 200), as: UTF8.self) : input.mutate(input.pick(valid))
            if let value = try? JSONValue.parse(text) {
                parsed += 1
                // What was read can be written back and read again.
                #expect((try? JSONValue.parse(value.compactText)) != nil, "\(text)")
            }
        }
        #expect(parsed > 0, "some mutations stay valid JSON")
    }

    /// Every key under a cluster's prefix, with any value: decoded or named as a problem.
    @Test func anyValueUnderTheClusterPrefixIsDecodedOrNamed() {
        var input = FuzzInput(seed: FuzzInput.seed &+ 1)
        let layout = KeyLayout(namespace: "/service", scope: "fuzz")
        let names = ["leader", "config", "history", "status", "optime/leader", "failover", "sync", "initialize",
                     "failsafe", "members/n1", "members/n2", "members/", "members/n1/extra", "unknown"]
        let fields = ["conn_url", "api_url", "state", "role", "xlog_location", "timeline", "tags", "version", "leader",
                      "member", "scheduled_at", "optime", "slots", "sync_standby", "quorum", "ttl", "loop_wait", "pause",
                      "postgresql", "parameters", "nofailover", "failover_priority"]
        for iteration in 0..<FuzzInput.iterations(2000) {
            var kvs: [KeyValue] = []
            for _ in 0..<(1 + input.below(6)) {
                let value = input.chance(70) ? input.json(keys: fields).compactText : input.mutate(input.text())
                kvs.append(KeyValue(key: layout.prefix + input.pick(names), value: value,
                                    createRevision: input.int64(), modRevision: input.int64(), lease: input.int64()))
            }
            let state = ClusterStateDecoder.decode(kvs, layout: layout, revision: input.int64())
            // Whatever was kept is within what PostgreSQL and the engine can hold.
            for event in state.history?.value ?? [] {
                #expect(TimelineEvent.timelines.contains(event.timeline) && event.lsn >= 0, "seed \(FuzzInput.seed) #\(iteration)")
            }
            for member in state.members {
                #expect((member.record.xlogLocation ?? 0) >= 0 && (member.record.timeline.map(TimelineEvent.timelines.contains) ?? true),
                        "seed \(FuzzInput.seed) #\(iteration)")
            }
            #expect((state.status?.optime ?? 0) >= 0, "seed \(FuzzInput.seed) #\(iteration)")
            _ = MemberSummary.all(in: state)
        }
    }

    /// The cluster-wide configuration with any content: every value used is within its range,
    /// and what cannot be used is named.
    @Test func anyConfigurationReadsIntoSettingsTheEngineCanRun() {
        var input = FuzzInput(seed: FuzzInput.seed &+ 2)
        let keys = ["ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "maximum_lag_on_syncnode",
                    "max_timelines_history", "primary_start_timeout", "primary_stop_timeout", "master_start_timeout",
                    "synchronous_mode", "synchronous_mode_strict", "synchronous_node_count", "failsafe_mode",
                    "check_timeline", "member_slots_ttl", "pause", "slots", "ignore_slots", "standby_cluster",
                    "postgresql", "use_slots", "use_pg_rewind", "parameters", "pg_hba", "recovery_conf"]
        var lastGood: DynamicConfig?
        for iteration in 0..<FuzzInput.iterations(3000) {
            let (dynamic, problems) = DynamicConfig.read(json: input.json(keys: keys), key: "/service/fuzz/config",
                                                         lastGood: lastGood)
            let settings = dynamic.engineSettings
            let timings = settings.timings
            let bound = DynamicConfig.seconds.upperBound
            #expect(timings.ttl <= bound && timings.loopWait <= bound && timings.retryTimeout <= bound,
                    "seed \(FuzzInput.seed) #\(iteration): \(timings)")
            #expect(timings.loopWait + 2 * timings.retryTimeout <= timings.ttl || timings.ttl == HATimings.minimumTTL,
                    "seed \(FuzzInput.seed) #\(iteration): the timing rule holds: \(timings)")
            #expect(problems.allSatisfy { !$0.path.isEmpty || !$0.message.isEmpty })
            _ = DynamicConfig.firstUnusableValue(in: input.json(keys: keys))
            if problems.isEmpty { lastGood = dynamic }
        }
    }

    /// The peers' `/patroni` documents, as a leader race reads them.
    @Test func anyPeerDocumentIsReadAsAStatusOrUnreachable() {
        var input = FuzzInput(seed: FuzzInput.seed &+ 3)
        let keys = ["state", "role", "xlog", "location", "received_location", "replayed_location", "tags", "nofailover",
                    "failover_priority", "timeline", "watchdog_failed", "running", "primary", "replica"]
        var peers: [PeerStatus] = []
        for _ in 0..<FuzzInput.iterations(3000) {
            var document = input.json(keys: keys)
            if input.chance(50), case var .object(entries) = document {
                entries.append((key: "state", value: .string("running")))
                entries.append((key: "xlog", value: input.json(depth: 1, keys: keys)))
                document = .object(entries)
            }
            peers.append(PeerProbe.peerStatus("p\(peers.count % 5)", document))
        }
        // The candidacy rule over them, with extreme positions of the leader.
        for optime in [Int64.max, .min, 0, -1] {
            for maximum in [Int64.max, 0, 1_048_576] {
                _ = Candidacy.able(peers, .init(lag: (optime: optime, maximum: maximum)))
            }
            _ = WALDistance.behind(optime, .min)
            _ = WALDistance.behind(.min, optime)
        }
    }

    /// The small parsers: positions, addresses, times, requests, history files.
    @Test func theSmallParsersAnswerOrRefuseAnyText() {
        var input = FuzzInput(seed: FuzzInput.seed &+ 4)
        for _ in 0..<FuzzInput.iterations(5000) {
            let text = input.chance(50) ? input.text() : input.mutate(input.pick([
                "0/3000060", "127.0.0.1:5432", "2030-01-01T10:00:00+02:00", "n1:n2", #"{"leader":"n1"}"#,
                "1\t0/3000060\tno recovery target specified\n2\tFFFFFFFF/FFFFFFFF\tx",
            ]))
            _ = LSN(text)
            _ = HostPort(text)
            _ = ISOTime.read(text)
            _ = FailoverRequest(text: text)
            _ = TimelineDivergence.parseHistory(text)
            if let json = try? JSONValue.parse(text) {
                _ = TimelineEvent(json: json)
                _ = MemberRecord(json: json)
                _ = StatusRecord(json: json)
                _ = SyncState(json: json)
            }
        }
    }

    /// patroni.yml itself: the guide's file, damaged at random, is loaded and validated with
    /// findings, never a trap.
    @Test func aDamagedPatroniYmlIsReportedNotTrappedOn() throws {
        var input = FuzzInput(seed: FuzzInput.seed &+ 5)
        let guide = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Tests/Fixtures/guide/patroni-ct104.yml"),
                               encoding: .utf8)
        for _ in 0..<FuzzInput.iterations(400) {
            let text = input.mutate(guide)
            guard let tree = try? YAMLDocument.parse(text, file: "patroni.yml") else { continue }
            let (configuration, _) = Configuration.read(tree)
            _ = configuration.bootstrap.dcs.engineSettings
        }
    }
}
