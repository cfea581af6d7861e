import Foundation
import VigilCore

/// The JSON shapes of etcd's gRPC gateway: keys and values base64, 64-bit integers as
/// strings, and proto3's habit of leaving out fields that hold their default (false, 0).
enum GatewayCoding {
    static func b64(_ text: String) -> JSONValue { .string(Data(text.utf8).base64EncodedString()) }

    static func text(fromBase64 value: JSONValue?) -> String {
        guard let encoded = value?.stringValue, let data = Data(base64Encoded: encoded) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// An int64 field: a string, a number, or absent (0).
    static func int64(_ value: JSONValue?) -> Int64 {
        if let text = value?.stringValue { return Int64(text) ?? 0 }
        return value?.intValue ?? 0
    }

    static func keyValue(_ json: JSONValue) -> KeyValue {
        KeyValue(key: text(fromBase64: json["key"]), value: text(fromBase64: json["value"]),
                 createRevision: int64(json["create_revision"]), modRevision: int64(json["mod_revision"]),
                 lease: int64(json["lease"]))
    }

    static func revision(_ json: JSONValue) -> Int64 { int64(json["header"]?["revision"]) }

    static func rangeRequest(_ key: String, rangeEnd: String?, serializable: Bool) -> JSONValue {
        var o: [(key: String, value: JSONValue)] = [("key", b64(key))]
        if let rangeEnd { o.append(("range_end", b64(rangeEnd))) }
        if serializable { o.append(("serializable", true)) }
        return .object(o)
    }

    static func txnRequest(_ txn: Txn) -> JSONValue {
        [
            "compare": .array(txn.compare.map(compare)),
            "success": .array(txn.success.map(operation)),
            "failure": .array(txn.failure.map(operation)),
        ]
    }

    static func compare(_ c: Txn.Compare) -> JSONValue {
        switch c {
        case let .createRevision(key, revision):
            ["key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": .string(String(revision))]
        case let .modRevision(key, revision):
            ["key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": .string(String(revision))]
        case let .value(key, value):
            ["key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(value)]
        case let .lease(key, lease):
            ["key": b64(key), "target": "LEASE", "result": "EQUAL", "lease": .string(String(lease))]
        }
    }

    static func operation(_ op: Txn.Operation) -> JSONValue {
        switch op {
        case let .put(key, value, lease):
            var put: [(key: String, value: JSONValue)] = [("key", b64(key)), ("value", b64(value))]
            if lease != 0 { put.append(("lease", .string(String(lease)))) }
            return ["request_put": .object(put)]
        case let .delete(key, rangeEnd):
            var delete: [(key: String, value: JSONValue)] = [("key", b64(key))]
            if let rangeEnd { delete.append(("range_end", b64(rangeEnd))) }
            return ["request_delete_range": .object(delete)]
        case let .range(key):
            return ["request_range": ["key": b64(key)]]
        case let .txn(txn):
            return ["request_txn": txnRequest(txn)]
        }
    }

    static func txnResult(_ json: JSONValue, revision: Int64? = nil) -> TxnResult {
        let responses: [TxnResult.Response] = (json["responses"]?.arrayValue ?? []).map { response in
            if let range = response["response_range"] {
                return .range((range["kvs"]?.arrayValue ?? []).map(keyValue))
            }
            if let delete = response["response_delete_range"] {
                return .delete(deleted: int64(delete["deleted"]))
            }
            if let txn = response["response_txn"] {
                return .txn(txnResult(txn, revision: revision ?? Self.revision(json)))
            }
            return .put
        }
        return TxnResult(succeeded: json["succeeded"]?.boolValue ?? false, responses: responses,
                         revision: revision ?? Self.revision(json))
    }

    /// A watch stream message: events, or the news that the start revision was compacted.
    static func watchMessage(_ json: JSONValue) throws -> WatchBatch? {
        if let error = json["error"] {
            throw StoreError(.unreachable, "watch ended: \(error["message"]?.stringValue ?? "\(error.compactText)")")
        }
        guard let result = json["result"] else { return nil }
        let compacted = int64(result["compact_revision"])
        if compacted > 0 { throw WatchCompacted(compactRevision: compacted) }
        if result["canceled"]?.boolValue == true {
            throw StoreError(.unreachable, "watch canceled: \(result["cancel_reason"]?.stringValue ?? "no reason given")")
        }
        let events = (result["events"]?.arrayValue ?? []).map { event in
            WatchEvent(deleted: event["type"]?.stringValue == "DELETE", kv: keyValue(event["kv"] ?? .null))
        }
        return WatchBatch(events: events, revision: revision(result))
    }
}
