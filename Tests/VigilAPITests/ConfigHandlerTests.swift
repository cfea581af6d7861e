import Testing
@testable import VigilAPI
import VigilCore

/// `PATCH /config` (a merge patch, compare-and-swap on the key's version) and `PUT /config`
/// (replace), against an in-memory store (spec §1.5). Bodies that are not JSON objects never
/// get here: RequestBody answers 411/400 first (covered over HTTP in AgentTests).
@Suite struct ConfigHandlerTests {
    typealias ConfigWrite = FakeClusterControl.Write<JSONValue>

    let current: JSONValue = [
        "ttl": 30,
        "loop_wait": 10,
        "postgresql": ["use_pg_rewind": true, "parameters": ["max_connections": 100, "wal_level": "replica"]],
    ]

    func makeStore(config: JSONValue?, concurrentConfig: JSONValue? = nil, failReads: Bool = false,
               failWrites: Bool = false) -> FakeClusterControl {
        FakeClusterControl(Sample.threeNodes(config: config.map { Versioned($0, version: 7) }), failReads: failReads,
                           failWrites: failWrites, concurrentConfig: concurrentConfig)
    }

    // MARK: - PATCH

    @Test func aPatchMergesNestedObjectsAndNullDeletes() async {
        let store = makeStore(config: current)
        let patch: JSONValue = ["ttl": 20, "loop_wait": .null, "postgresql": ["parameters": ["max_connections": 200]], "pause": true]
        // RFC 7396: ttl replaced in place, loop_wait gone, the nested parameter changed and its
        // siblings kept, a new key added at the end.
        let merged: JSONValue = [
            "ttl": 20,
            "postgresql": ["use_pg_rewind": true, "parameters": ["max_connections": 200, "wal_level": "replica"]],
            "pause": true,
        ]
        let (code, config, _) = await ConfigHandler(control: store).patch(patch)
        #expect(code == 200)
        #expect(config == merged, "the answer is the whole new configuration")
        // Written with compare-and-swap on the version that was read, so a concurrent edit is not lost.
        let expected: [ConfigWrite] = [ConfigWrite(value: merged, expectedVersion: 7)]
        #expect(await store.configWrites == expected)
        #expect(await store.cluster.config?.value == merged)
    }

    @Test func aConfigurationNoAgentCouldRunIsA400NamingTheFieldAndNothingIsWritten() async {
        let store = makeStore(config: current)
        let (code, config, message) = await ConfigHandler(control: store).patch(["loop_wait": .int(Int64.max)])
        #expect(code == 400 && config == nil)
        #expect(message == "loop_wait: expected a whole number from 0 to 31536000, found 9223372036854775807.")
        let (putCode, _, putMessage) = await ConfigHandler(control: store).put(["ttl": "soon", "loop_wait": 10])
        #expect(putCode == 400 && putMessage.hasPrefix("ttl: expected a whole number"), "\(putMessage)")
        #expect(await store.configWrites.isEmpty)
        #expect(await store.cluster.config?.value == current)
    }

    @Test func aPatchThatChangesNothingIsNotWritten() async {
        let store = makeStore(config: current)
        // The same value, and the removal of a key that is not there.
        let (code, config, _) = await ConfigHandler(control: store).patch(["ttl": 30, "standby_cluster": .null])
        #expect(code == 200)
        #expect(config == current)
        #expect(await store.configWrites.isEmpty)
    }

    @Test func aPatchThatLosesTheRaceIsA409AndKeepsTheOtherWrite() async {
        let other: JSONValue = ["ttl": 15, "loop_wait": 5]
        let store = makeStore(config: current, concurrentConfig: other)
        let (code, config, _) = await ConfigHandler(control: store).patch(["ttl": 20])
        #expect(code == 409)
        #expect(config == nil, "no configuration is sent back with a refusal")
        #expect(await store.cluster.config?.value == other)
    }

    @Test func aPatchWithoutAConfigKeyIsA503() async {
        let store = makeStore(config: nil)
        let (code, config, _) = await ConfigHandler(control: store).patch(["ttl": 20])
        #expect(code == 503)
        #expect(config == nil)
        // Patching nothing into existence would drop every default; Patroni refuses instead.
        #expect(await store.configWrites.isEmpty)
    }

    @Test func aPatchWhileTheStoreIsUnreadableIsA503() async {
        let store = makeStore(config: current, failReads: true)
        let (code, config, _) = await ConfigHandler(control: store).patch(["ttl": 20])
        #expect(code == 503)
        #expect(config == nil)
        #expect(await store.configWrites.isEmpty)
    }

    /// Patroni's patch_config compares scalars by `str()` (spec §1.5): `"30"` over `30` is no
    /// change, so nothing is written and the integer stays.
    @Test func scalarsAreComparedAsTextAsPatroniDoes() async {
        let store = makeStore(config: current)
        let (code, config, _) = await ConfigHandler(control: store).patch(["ttl": "30"])
        #expect(code == 200)
        #expect(config == current)
        #expect(await store.configWrites.isEmpty)
        // A different text is a change, written with the type it was sent with.
        let (changedCode, changed, _) = await ConfigHandler(control: store).patch(["ttl": "31"])
        #expect(changedCode == 200 && changed?["ttl"] == .string("31"))
        #expect(await store.configWrites.count == 1)
    }

    // MARK: - PUT

    @Test func aPutReplacesTheWholeConfigurationUnconditionally() async {
        let store = makeStore(config: current)
        let replacement: JSONValue = ["ttl": 25, "loop_wait": 5]
        let (code, config, _) = await ConfigHandler(control: store).put(replacement)
        #expect(code == 200)
        #expect(config == replacement, "the body is echoed")
        let expected: [ConfigWrite] = [ConfigWrite(value: replacement, expectedVersion: nil)]
        #expect(await store.configWrites == expected)
        #expect(await store.cluster.config?.value == replacement)
    }

    @Test func aPutOfTheSameConfigurationIsNotWritten() async {
        let store = makeStore(config: current)
        let (code, config, _) = await ConfigHandler(control: store).put(current)
        #expect(code == 200)
        #expect(config == current)
        #expect(await store.configWrites.isEmpty)
    }

    @Test func aPutCreatesAMissingConfigKey() async {
        let store = makeStore(config: nil)
        let (code, _, _) = await ConfigHandler(control: store).put(["ttl": 30])
        #expect(code == 200)
        #expect(await store.cluster.config?.value == ["ttl": 30])
    }

    @Test func aPutThatCannotBeWrittenIsA502() async {
        let store = makeStore(config: current, failWrites: true)
        let (code, config, _) = await ConfigHandler(control: store).put(["ttl": 25])
        #expect(code == 502)
        #expect(config == nil)
    }
}
