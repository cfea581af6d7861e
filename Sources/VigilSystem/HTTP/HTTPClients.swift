import AsyncHTTPClient
import NIOCore
import NIOSSL
import Synchronization

/// The HTTP clients of the process, one per purpose and TLS setup, made once and kept for the
/// process's life: AsyncHTTPClient insists on an explicit shutdown, which a client that is
/// simply dropped never gets, and a client per call would pay a TLS handshake and a pool each
/// time. Every client shares NIO's singleton event loops (no thread pool of its own).
public enum HTTPClients {
    public enum Purpose: String, Sendable {
        /// The agent's HA loop asking its peers' REST APIs: a refused connection fails at once
        /// (a peer whose agent is stopping) instead of being retried for the probe's 2 s.
        case loop
        /// etcd's gRPC gateway: the same, so a dead endpoint costs a round trip, not its
        /// whole slice of the budget; HTTP/1 only, as the gateway speaks it.
        case etcd
        /// A command (`vigilctl`, the lab's drills) talking to an agent, patient as a person is.
        case command
    }

    /// The client for `purpose` with `tls` (nil: plain HTTP or the default trust). `tlsKey`
    /// names the TLS setup (its files), which TLSConfiguration cannot be compared by.
    public static func client(_ purpose: Purpose, tls: TLSConfiguration? = nil, tlsKey: String = "") -> HTTPClient {
        if purpose == .command, tls == nil { return .shared }
        let key = "\(purpose.rawValue)\u{0}\(tls == nil ? "" : "tls:" + tlsKey)"
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(purpose, tls: tls))
            clients[key] = client
            return client
        }
    }

    private static let clients = Mutex<[String: HTTPClient]>([:])

    static func configuration(_ purpose: Purpose, tls: TLSConfiguration?) -> HTTPClient.Configuration {
        switch purpose {
        case .loop, .etcd:
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(1)))
            configuration.connectionPool.retryConnectionEstablishment = false
            if purpose == .etcd { configuration.httpVersion = .http1Only }
            return configuration
        case .command:
            return HTTPClient.Configuration(tlsConfiguration: tls)
        }
    }

    /// A failed call in words: no answer in time, no connection, refused, or the handshake.
    public static func describe(_ error: any Error, timeout: Duration) -> String {
        if let http = error as? HTTPClientError {
            switch http {
            case .deadlineExceeded, .readTimeout: return "no answer within \(timeout)"
            case .connectTimeout: return "no connection within the timeout"
            default: break
            }
        }
        if error is NIOSSLError { return "the TLS handshake failed (\(error))" }
        let text = "\(error)"
        if text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
