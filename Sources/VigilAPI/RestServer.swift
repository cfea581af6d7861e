import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import VigilCore

/// The agent's REST server: Patroni's routing (the first path segment picks a handler; any
/// other GET goes to the health checks, spec §1.1) over the in-memory snapshot, and the
/// protected endpoints that act through `ClusterControl`.
public struct RestServer: Sendable {
    let source: any SnapshotSource
    let control: (any ClusterControl)?
    let access: AccessControl

    public init(source: any SnapshotSource, control: (any ClusterControl)?, access: AccessControl = .unconfigured) {
        self.source = source
        self.control = control
        self.access = access
    }

    /// An application serving on `host:port` (over TLS when `tls` is given), ready to run in a
    /// ServiceGroup.
    public func application(host: String, port: Int, tls: TLSConfiguration? = nil,
                            logger: Logger) throws -> some ApplicationProtocol {
        let server = self
        let responder = CallbackResponder<APIContext> { request, context in
            await server.respond(to: request, context: context)
        }
        let builder: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1()
        return Application(responder: responder, server: builder,
                           configuration: .init(address: .hostname(host, port: port),
                                                serverName: "Vigil/\(VigilVersion.string)"),
                           logger: logger)
    }

    func respond(to request: Request, context: APIContext) async -> Response {
        let path = request.uri.path.isEmpty ? "/" : request.uri.path
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let segment = path.split(separator: "/").first.map(String.init) ?? ""
        var snapshot = source.snapshot()
        switch request.method {
        case .get, .head, .options:
            // What peers read in a leader race: the WAL positions as they are now.
            if segment == "patroni", request.method == .get, let control { snapshot.take(await control.livePositions()) }
            return read(segment: segment, path: path, query: query, snapshot: snapshot,
                        statusOnly: request.method != .get)
        case .post, .put, .patch, .delete:
            let known: Set<String> = ["switchover", "failover", "config", "restart", "reload", "reinitialize"]
            guard known.contains(segment), let control else {
                return Self.text(501, "Unsupported method (\(request.method)) for \(path)")
            }
            let client = context.remoteAddress?.ipAddress
            if let refusal = access.check(authorization: request.headers[.authorization], client: client,
                                          members: snapshot.cluster?.members ?? []) {
                var response = Self.text(refusal.status, refusal.message)
                if refusal.challenge { response.headers[.wwwAuthenticate] = "Basic realm=\"Patroni\"" }
                return response
            }
            return await act(request, segment: segment, control: control, snapshot: snapshot)
        default:
            return Self.text(501, "Unsupported method (\(request.method))")
        }
    }

    func read(segment: String, path: String, query: [String: String], snapshot: NodeSnapshot, statusOnly: Bool) -> Response {
        let now = ContinuousClock.now
        switch segment {
        case "patroni":
            return Self.json(200, StatusDocument.json(snapshot, now: now), statusOnly: statusOnly)
        case "cluster":
            return Self.json(200, ClusterDocument.json(snapshot), statusOnly: statusOnly)
        case "history":
            let history = snapshot.cluster?.history?.value ?? []
            return Self.json(200, .array(history.map(\.jsonValue)), statusOnly: statusOnly)
        case "config":
            guard let config = snapshot.cluster?.config?.value else { return Self.text(502, "", statusOnly: statusOnly) }
            return Self.json(200, config, statusOnly: statusOnly)
        case "metrics":
            guard !statusOnly else { return Response(status: .ok) }
            return Response(status: .ok, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: MetricsDocument.render(snapshot, now: now))))
        case "liveness":
            return Response(status: .init(code: HealthCheck.liveness(snapshot, now: now)))
        case "readiness":
            return Response(status: .init(code: HealthCheck.readiness(query: query, snapshot: snapshot, now: now)))
        default:
            let code = HealthCheck.status(path: path, query: query, snapshot: snapshot, now: now)
            return Self.json(code, StatusDocument.json(snapshot, now: now), statusOnly: statusOnly)
        }
    }

    func act(_ request: Request, segment: String, control: any ClusterControl, snapshot: NodeSnapshot) async -> Response {
        let method = request.method
        do throws(RequestBody.Failure) {
            switch (method, segment) {
            case (.post, "switchover"), (.post, "failover"):
                let body = try await RequestBody.object(request, required: true) ?? .object([])
                let (code, message) = await SwitchoverHandler(control: control, paused: snapshot.paused)
                    .post(body, failover: segment == "failover")
                source.wake()
                return Self.text(code, message)
            case (.delete, "switchover"):
                let (code, message) = await SwitchoverHandler(control: control, paused: snapshot.paused).delete()
                return Self.text(code, message)
            case (.patch, "config"), (.put, "config"):
                let body = try await RequestBody.object(request, required: true) ?? .object([])
                let handler = ConfigHandler(control: control)
                let (code, config, message) = method == .patch ? await handler.patch(body) : await handler.put(body)
                source.wake()
                guard let config else { return Self.text(code, message) }
                return Self.json(code, config)
            case (.post, "restart"):
                let body = try await RequestBody.object(request, required: false)
                let (code, message) = await NodeHandler(control: control, snapshot: snapshot).restart(body)
                return Self.text(code, message)
            case (.delete, "restart"):
                let (code, message) = await control.perform(.cancelScheduledRestart)
                return Self.text(code, message)
            case (.post, "reinitialize"):
                let body = try await RequestBody.object(request, required: false)
                let (code, message) = await NodeHandler(control: control, snapshot: snapshot).reinitialize(body)
                return Self.text(code, message)
            case (.post, "reload"):
                let (code, message) = await control.perform(.reload)
                return Self.text(code, message)
            default:
                return Self.text(501, "Unsupported method (\(method)) for /\(segment)")
            }
        } catch {
            guard case let .response(code, message) = error else { return Self.text(400, "bad request") }
            return Self.text(code, message)
        }
    }

    static func json(_ code: Int, _ value: JSONValue, statusOnly: Bool = false) -> Response {
        guard !statusOnly else { return Response(status: .init(code: code)) }
        return Response(status: .init(code: code), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: value.compactText)))
    }

    static func text(_ code: Int, _ message: String, statusOnly: Bool = false) -> Response {
        guard !statusOnly else { return Response(status: .init(code: code)) }
        return Response(status: .init(code: code), headers: [.contentType: "text/html"],
                        body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
