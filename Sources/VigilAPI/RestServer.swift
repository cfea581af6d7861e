import Foundation
import Hummingbird
import Logging
import NIOCore
import VigilCore

/// The agent's REST server: Patroni's routing (first path segment picks a handler; any
/// other GET goes to the health checks, spec §1.1) over the in-memory snapshot.
public enum RestServer {
    /// An application serving `source` on `host:port`, ready to run in a ServiceGroup.
    public static func application(host: String, port: Int, source: any SnapshotSource,
                                   logger: Logger) -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            respond(to: request, source: source)
        }
        return Application(responder: responder,
                           configuration: .init(address: .hostname(host, port: port), serverName: "Vigil/\(VigilVersion.string)"),
                           logger: logger)
    }

    static func respond(to request: Request, source: any SnapshotSource) -> Response {
        let path = request.uri.path.isEmpty ? "/" : request.uri.path
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let segment = path.split(separator: "/").first.map(String.init) ?? ""
        let snapshot = source.snapshot()
        let now = ContinuousClock.now
        let statusOnly = request.method == .head || request.method == .options
        switch request.method {
        case .get, .head, .options:
            switch segment {
            case "patroni":
                return json(200, StatusDocument.json(snapshot, now: now), statusOnly: statusOnly)
            case "cluster":
                return json(200, ClusterDocument.json(snapshot), statusOnly: statusOnly)
            case "history":
                let history = snapshot.cluster?.history?.value ?? []
                return json(200, .array(history.map(\.jsonValue)), statusOnly: statusOnly)
            case "config":
                guard let config = snapshot.cluster?.config?.value else { return text(502, "", statusOnly: statusOnly) }
                return json(200, config, statusOnly: statusOnly)
            case "liveness":
                return Response(status: .init(code: HealthCheck.liveness(snapshot, now: now)))
            case "readiness":
                return Response(status: .init(code: HealthCheck.readiness(query: query, snapshot: snapshot, now: now)))
            default:
                let code = HealthCheck.status(path: path, query: query, snapshot: snapshot, now: now)
                return json(code, StatusDocument.json(snapshot, now: now), statusOnly: statusOnly)
            }
        default:
            return text(501, "Unsupported method (\(request.method))", statusOnly: false)
        }
    }

    static func json(_ code: Int, _ value: JSONValue, statusOnly: Bool) -> Response {
        guard !statusOnly else { return Response(status: .init(code: code)) }
        return Response(status: .init(code: code), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: value.compactText)))
    }

    static func text(_ code: Int, _ message: String, statusOnly: Bool) -> Response {
        guard !statusOnly else { return Response(status: .init(code: code)) }
        return Response(status: .init(code: code), headers: [.contentType: "text/html"],
                        body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
