import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import VigilCore
import VigilSystem

/// etcd's v3 API through its JSON gateway (`POST /v3/...`), over AsyncHTTPClient.
///
/// Every call has a budget. Within it the client tries the current endpoint, and on a
/// connection failure, a timeout or "no leader" moves to the next one, so one dead or
/// partitioned etcd member costs a slice of the budget, not all of it. Errors that another
/// endpoint would answer the same (bad password, unknown lease, invalid request) end the
/// call at once.
public actor EtcdGateway: EtcdKV {
    public nonisolated let configuredEndpoints: [String]
    private var endpoints: [String]
    private var current = 0
    private let client: HTTPClient
    private let username: String?
    private let password: String?
    private var token: String?
    private var apiPrefix: String?
    private let discoverMembers: Bool
    private var lastDiscovery: ContinuousClock.Instant?
    /// How often the member list is refreshed (Patroni: 10 × ttl).
    public var discoveryInterval: Duration = .seconds(300)
    /// Told the duration of every call (`kv/range`…, retries included), for metrics.
    private var callObserver: (@Sendable (_ call: String, _ seconds: Double) -> Void)?

    public func observeCalls(_ observer: @escaping @Sendable (_ call: String, _ seconds: Double) -> Void) {
        callObserver = observer
    }

    public init(settings: EtcdConnectionSettings) throws(StoreError) {
        configuredEndpoints = settings.endpoints
        endpoints = settings.endpoints
        username = settings.username
        password = settings.password
        discoverMembers = settings.discoverMembers
        client = try Self.client(for: settings)
    }

    /// The process's etcd client for this TLS setup (VigilSystem's HTTPClients keeps one per
    /// setup for the process's life; a refused connection fails at once).
    private static func client(for settings: EtcdConnectionSettings) throws(StoreError) -> HTTPClient {
        let tls = try settings.tlsConfiguration()
        let files = [settings.caFile, settings.certFile, settings.keyFile].map { $0 ?? "" }.joined(separator: "\u{0}")
        return HTTPClients.client(.etcd, tls: tls, tlsKey: files)
    }

    // MARK: EtcdKV

    public func range(_ key: String, rangeEnd: String?, serializable: Bool, budget: Duration) async throws(StoreError) -> RangeResult {
        let json = try await call("kv/range", GatewayCoding.rangeRequest(key, rangeEnd: rangeEnd, serializable: serializable),
                                  budget: budget)
        return RangeResult(kvs: (json["kvs"]?.arrayValue ?? []).map(GatewayCoding.keyValue),
                           revision: GatewayCoding.revision(json))
    }

    public func txn(_ txn: Txn, budget: Duration) async throws(StoreError) -> TxnResult {
        GatewayCoding.txnResult(try await call("kv/txn", GatewayCoding.txnRequest(txn), budget: budget))
    }

    public func grantLease(ttl: Int, budget: Duration) async throws(StoreError) -> Int64 {
        let json = try await call("lease/grant", ["TTL": .int(Int64(ttl))], budget: budget)
        let id = GatewayCoding.int64(json["ID"])
        guard id != 0 else { throw StoreError(.unknown, "lease grant answered without a lease ID: \(json.compactText)") }
        return id
    }

    public func keepAlive(lease: Int64, budget: Duration) async throws(StoreError) -> Int64? {
        let json = try await call("lease/keepalive", ["ID": .string(String(lease))], budget: budget)
        let ttl = GatewayCoding.int64(json["result"]?["TTL"] ?? json["TTL"])
        return ttl > 0 ? ttl : nil
    }

    public func revokeLease(_ lease: Int64, budget: Duration) async throws(StoreError) {
        do {
            _ = try await call("lease/revoke", ["ID": .string(String(lease))], budget: budget)
        } catch where error.kind == .leaseNotFound {
            return
        }
    }

    public nonisolated func watch(_ key: String, rangeEnd: String, startRevision: Int64) -> AsyncThrowingStream<WatchBatch, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await self.streamWatch(key, rangeEnd: rangeEnd, startRevision: startRevision) { batch in
                        continuation.yield(batch)
                    }
                    continuation.finish(throwing: StoreError(.unreachable, "watch stream closed"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Requests

    /// One API call within `budget`, moving across endpoints as described on the type.
    func call(_ method: String, _ body: JSONValue, budget: Duration) async throws(StoreError) -> JSONValue {
        let began = ContinuousClock.now
        defer { callObserver?(method, (ContinuousClock.now - began).inSeconds) }
        let deadline = ContinuousClock.now + budget
        var lastError: StoreError?
        var failuresInARow = 0
        var notGateways = 0
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw lastError ?? StoreError(.timedOut, "no answer within \(budget)")
            }
            let endpoint = endpoints[current % endpoints.count]
            let attemptDeadline = ContinuousClock.now + min(remaining, max(.milliseconds(500), budget / endpoints.count))
            do {
                try await authenticateIfNeeded(endpoint, deadline: attemptDeadline)
                let prefix = await apiPrefix(endpoint, deadline: attemptDeadline)
                let answer = try await post(endpoint, prefix + "/" + method, body, deadline: attemptDeadline)
                await refreshMembersIfDue(via: endpoint, prefix: prefix)
                return answer
            } catch {
                lastError = error
                switch error.kind {
                case .unreachable, .timedOut, .noLeader:
                    current = (current + 1) % endpoints.count
                    failuresInARow += 1
                    // Every endpoint failed once: pause briefly rather than spin.
                    if failuresInARow % endpoints.count == 0 {
                        let pause = min(.milliseconds(200), deadline - ContinuousClock.now)
                        if pause > .zero { try? await Task.sleep(for: pause) }
                    }
                case .notAGateway:
                    // Another endpoint may serve the call; when none of them does, that is the
                    // answer (a wrong address), not an outage to wait out. The prefix is asked
                    // for again: it may have been read from a server being replaced.
                    apiPrefix = nil
                    notGateways += 1
                    if notGateways >= endpoints.count { throw error }
                    current = (current + 1) % endpoints.count
                case .authFailed where token != nil && error.message.contains("invalid auth token"):
                    token = nil
                default:
                    throw error
                }
            }
        }
    }

    private func post(_ endpoint: String, _ path: String, _ body: JSONValue,
                      deadline: ContinuousClock.Instant) async throws(StoreError) -> JSONValue {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(string: body.compactText))
        let text: String
        let status: HTTPResponseStatus
        do {
            let response = try await client.execute(request, deadline: Self.nioDeadline(deadline))
            status = response.status
            text = String(buffer: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw Self.classify(error, endpoint: endpoint)
        }
        // Streaming endpoints (keepalive) answer with one JSON object per line.
        let firstLine = text.split(separator: "\n").first.map(String.init) ?? ""
        let json = try? JSONValue.parse(firstLine)
        guard status == .ok else {
            throw Self.classify(status: status, json: json, text: text, endpoint: endpoint)
        }
        guard let json else {
            throw StoreError(.unknown, "answer is not JSON: \(text.prefix(200))", endpoint: endpoint)
        }
        if let error = json["error"], error.objectValue != nil {
            // Errors inside a 200 stream body: {"error":{"grpc_code":14,"message":…}}
            throw Self.classify(code: error["grpc_code"]?.intValue ?? 2, message: error["message"]?.stringValue ?? "",
                                endpoint: endpoint)
        }
        return json
    }

    private func streamWatch(_ key: String, rangeEnd: String, startRevision: Int64,
                             yield: @Sendable (WatchBatch) -> Void) async throws {
        let endpoint = endpoints[current % endpoints.count]
        try await authenticateIfNeeded(endpoint, deadline: ContinuousClock.now + .seconds(5))
        let prefix = await apiPrefix(endpoint, deadline: ContinuousClock.now + .seconds(5))
        var create: [(key: String, value: JSONValue)] = [("key", GatewayCoding.b64(key)),
                                                          ("range_end", GatewayCoding.b64(rangeEnd))]
        if startRevision > 0 { create.append(("start_revision", .string(String(startRevision)))) }
        var request = HTTPClientRequest(url: endpoint + prefix + "/watch")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(string: JSONValue.object([("create_request", .object(create))]).compactText))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .distantFuture)
        } catch {
            throw Self.classify(error, endpoint: endpoint)
        }
        guard response.status == .ok else {
            throw StoreError(.unreachable, "watch refused with HTTP \(response.status.code)", endpoint: endpoint)
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.isEmpty, let json = try? JSONValue.parse(line) else { continue }
                if let batch = try GatewayCoding.watchMessage(json), !batch.events.isEmpty { yield(batch) }
            }
        }
    }

    // MARK: Version, auth and members

    /// `/v3` on etcd 3.4+, `/v3beta` on 3.3, `/v3alpha` before; asked once via `/version`.
    private func apiPrefix(_ endpoint: String, deadline: ContinuousClock.Instant) async -> String {
        if let apiPrefix { return apiPrefix }
        var request = HTTPClientRequest(url: endpoint + "/version")
        request.method = .GET
        guard let response = try? await client.execute(request, deadline: Self.nioDeadline(deadline)),
              let body = try? await response.body.collect(upTo: 1 << 16),
              let json = try? JSONValue.parse(String(buffer: body)),
              let prefix = Self.apiPrefix(versionDocument: json) else {
            return "/v3"
        }
        apiPrefix = prefix
        return prefix
    }

    /// The JSON gateway's path prefix for an answer of `GET /version`, nil when it names no
    /// usable version. The server's own version decides it: the gateway is part of the server.
    /// The cluster version is only a fallback, because a forming cluster reports 3.0.0 (then
    /// "not_decided") before its members agree, which would select a prefix no 3.4+ server serves.
    public static func apiPrefix(versionDocument json: JSONValue) -> String? {
        for field in ["etcdserver", "etcdcluster"] {
            let parts = (json[field]?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
            guard parts.count >= 2 else { continue }
            if (parts[0], parts[1]) < (3, 3) { return "/v3alpha" }
            return (parts[0], parts[1]) == (3, 3) ? "/v3beta" : "/v3"
        }
        return nil
    }

    private func authenticateIfNeeded(_ endpoint: String, deadline: ContinuousClock.Instant) async throws(StoreError) {
        guard let username, token == nil else { return }
        let prefix = await apiPrefix(endpoint, deadline: deadline)
        let body: JSONValue = ["name": .string(username), "password": .string(password ?? "")]
        do {
            let json = try await post(endpoint, prefix + "/auth/authenticate", body, deadline: deadline)
            token = json["token"]?.stringValue
        } catch where error.message.contains("authentication is not enabled") {
            return
        } catch where error.kind == .rejected || error.kind == .authFailed {
            // Never echo what was sent: the message is etcd's, which names no password.
            throw StoreError(.authFailed, "etcd refused user '\(username)': \(error.message)", endpoint: endpoint)
        }
    }

    /// Adds the cluster's own list of client URLs to the configured endpoints, so a client
    /// configured with one host still finds the others when that host dies. Asked of an
    /// endpoint that has just answered, so discovery never costs a dead endpoint's time.
    private func refreshMembersIfDue(via endpoint: String, prefix: String) async {
        guard discoverMembers else { return }
        if let lastDiscovery, ContinuousClock.now - lastDiscovery < discoveryInterval { return }
        lastDiscovery = ContinuousClock.now
        guard let json = try? await post(endpoint, prefix + "/cluster/member/list", [:],
                                         deadline: ContinuousClock.now + .seconds(1)) else { return }
        let discovered = (json["members"]?.arrayValue ?? []).flatMap { ($0["clientURLs"]?.arrayValue ?? []).compactMap(\.stringValue) }
        var merged = configuredEndpoints
        for url in discovered where !merged.contains(url) { merged.append(url) }
        endpoints = merged
        current = endpoints.firstIndex(of: endpoint) ?? 0
    }

    // MARK: Errors

    static func nioDeadline(_ deadline: ContinuousClock.Instant) -> NIODeadline {
        let remaining = deadline - ContinuousClock.now
        let nanos = max(0, remaining.inNanoseconds)
        return .now() + .nanoseconds(nanos)
    }

    static func classify(_ error: any Error, endpoint: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let http = error as? HTTPClientError {
            switch http {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return StoreError(.timedOut, "no answer in time", endpoint: endpoint)
            case .connectTimeout:
                return StoreError(.unreachable, "no connection within the timeout", endpoint: endpoint)
            default:
                return StoreError(.unreachable, "\(http)", endpoint: endpoint)
            }
        }
        // NIO reports a refused connection as a nested socket error; say it plainly.
        let text = "\(error)"
        if text.contains("Connection refused") {
            return StoreError(.unreachable, "connection refused: is etcd running there?", endpoint: endpoint)
        }
        return StoreError(.unreachable, text, endpoint: endpoint)
    }

    static func classify(status: HTTPResponseStatus, json: JSONValue?, text: String, endpoint: String) -> StoreError {
        guard let json, let code = json["code"]?.intValue else {
            if status == .notFound {
                return StoreError(.notAGateway, "HTTP 404: this endpoint serves no etcd v3 JSON gateway", endpoint: endpoint)
            }
            return StoreError(.unreachable, "HTTP \(status.code): \(text.prefix(200))", endpoint: endpoint)
        }
        return classify(code: code, message: json["message"]?.stringValue ?? json["error"]?.stringValue ?? "", endpoint: endpoint)
    }

    /// gRPC status codes as etcd uses them.
    static func classify(code: Int64, message: String, endpoint: String) -> StoreError {
        switch code {
        case 14 where message.contains("no leader"), 14 where message.contains("leader changed"):
            return StoreError(.noLeader, message, endpoint: endpoint)
        case 14: return StoreError(.unreachable, message, endpoint: endpoint)
        case 4: return StoreError(.timedOut, message, endpoint: endpoint)
        case 16: return StoreError(.authFailed, message, endpoint: endpoint)
        case 3 where message.contains("authentication failed"), 7:
            return StoreError(.authFailed, message, endpoint: endpoint)
        case 5 where message.contains("lease"): return StoreError(.leaseNotFound, message, endpoint: endpoint)
        case 2 where message.contains("not a primary lessor"):
            return StoreError(.unreachable, message, endpoint: endpoint)
        default: return StoreError(.rejected, message, endpoint: endpoint)
        }
    }
}
