import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import VigilPostgres
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real `vigil` agent managing its own PostgreSQL 18 on a loopback address: the product
/// binary itself, started as the unprivileged service user with a patroni.yml in the
/// guide's shape and short timings, so that integration tests see what an operator would.
public final class TestAgent: Sendable {
    public let name: String
    public let scope: String
    public let host: String
    public let restPort = 8008
    public let postgresPort = 5432
    public let configPath: String
    public let directory: TestDirectory
    public let dataDirectory: String
    public static let superuserPassword = "agent-test-super"
    public static let replicationPassword = "agent-test-repl"
    private let process = Mutex<ChildProcess?>(nil)
    private let starts = Mutex(0)

    public var restURL: String { "http://\(host):\(restPort)" }
    public var current: ChildProcess? { process.withLock { $0 } }

    /// Writes the configuration; `start()` runs the agent.
    /// - Parameters:
    ///   - tags: lines for the `tags:` section, e.g. `["nofailover: true"]`.
    ///   - host: reuse an address (a second agent with the same name on another address is a different host).
    ///   - postgresqlLines: more lines for the `postgresql:` section, e.g. `["callbacks: {…}"]`.
    public init(name: String, scope: String, etcdEndpoints: [String], ttl: Int = 6, loopWait: Int = 1,
                retryTimeout: Int = 2, maximumLagOnFailover: Int = 1_048_576, tags: [String] = [],
                host: String? = nil, restAuthentication: (username: String, password: String)? = nil,
                restapiLines: [String] = [], postgresqlLines: [String] = [], dcsLines: [String] = [],
                parameterLines: [String] = [], extraConfig: String = "") throws {
        self.name = name
        self.scope = scope
        let user = try ServiceUser.current()
        let bin = try TestTools.postgresBinDirectory()
        self.host = host ?? LoopbackAddress.random()
        directory = try TestDirectory.make("agent-\(name)")
        let work = try directory.makeOwned("work", by: user)
        dataDirectory = work + "/data"
        configPath = directory.sub("patroni.yml")
        let tagLines = tags.isEmpty ? "tags: {}" : "tags:\n" + tags.map { "  " + $0 }.joined(separator: "\n")
        let config = """
            scope: \(scope)
            namespace: /db/
            name: \(name)
            restapi:
              listen: \(self.host):\(restPort)
              connect_address: \(self.host):\(restPort)
            \(restAuthentication.map { "  authentication: {username: \($0.username), password: \($0.password)}" } ?? "")
            \(restapiLines.map { "  " + $0 }.joined(separator: "\n"))
            etcd3:
              hosts: [\(etcdEndpoints.joined(separator: ", "))]
            bootstrap:
              dcs:
                ttl: \(ttl)
                loop_wait: \(loopWait)
                retry_timeout: \(retryTimeout)
                maximum_lag_on_failover: \(maximumLagOnFailover)
            \(dcsLines.map { "    " + $0 }.joined(separator: "\n"))
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
                  parameters:
                    wal_keep_size: 256MB
              initdb: [{encoding: UTF8}, data-checksums]
            postgresql:
              listen: \(self.host):\(postgresPort)
              connect_address: \(self.host):\(postgresPort)
              data_dir: \(dataDirectory)
              bin_dir: \(bin)
              pgpass: \(work)/pgpass
            \(postgresqlLines.map { "  " + $0 }.joined(separator: "\n"))
              authentication:
                superuser: {username: postgres, password: \(Self.superuserPassword)}
                replication: {username: replicator, password: \(Self.replicationPassword)}
              parameters:
                unix_socket_directories: \(work)
            \(parameterLines.map { "    " + $0 }.joined(separator: "\n"))
            \(tagLines)
            \(extraConfig)
            """
        guard FileManager.default.createFile(atPath: configPath, contents: Data(config.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw HarnessError("cannot write \(configPath)")
        }
        try user.own(configPath)
    }

    /// The agent binary, where the service user can execute it: the build directory may sit
    /// under /root, so under root it is copied once per test run to a world-readable place.
    static let binary = Mutex<String?>(nil)

    public static func agentBinary() throws -> String {
        try binary.withLock { cached in
            if let cached { return cached }
            let built = try CommandRun.product("vigil")
            let user = try ServiceUser.current()
            guard user.switches else {
                cached = built
                return built
            }
            let dir = try TestDirectory.make("agentbin")
            let copy = dir.sub("vigil")
            try FileManager.default.copyItem(atPath: built, toPath: copy)
            chmod(copy, 0o755)
            cached = copy
            return copy
        }
    }

    public func start(environment: [String: String] = [:]) async throws {
        let user = try ServiceUser.current()
        let count = starts.withLock { n -> Int in
            n += 1
            return n
        }
        let child = try await ChildProcess.spawn(try Self.agentBinary(), [configPath], owner: user.owner,
                                                 environment: environment, logPath: directory.sub("agent-\(count).log"))
        process.withLock { $0 = child }
    }

    /// kill -9 of the agent alone: its PostgreSQL keeps running.
    public func killAgentOnly() async {
        if let child = current { _ = await child.stop(signal: SIGKILL, grace: .seconds(5)) }
    }

    public var postgresRunning: Bool { postmasterPID() != nil }

    /// kill -9 of the agent and its postmaster: the node vanishes as in a power cut.
    public func killHard() async {
        if let child = current { _ = await child.stop(signal: SIGKILL, grace: .seconds(5)) }
        if let pid = postmasterPID() { kill(pid, SIGKILL) }
        try? await Task.sleep(for: .milliseconds(200))
    }

    /// SIGTERM, as systemd stops the service; waits for the agent to exit.
    public func terminate(grace: Duration = .seconds(60)) async -> Int32? {
        guard let child = current else { return nil }
        guard let status = await child.stop(signal: SIGTERM, grace: grace) else { return nil }
        if case let .exited(code) = status { return code }
        return nil
    }

    public func stop() async {
        _ = await terminate(grace: .seconds(30))
        if let pid = postmasterPID() {
            kill(pid, SIGQUIT)
            try? await Task.sleep(for: .milliseconds(500))
            kill(pid, SIGKILL)
        }
        directory.remove()
    }

    /// The postmaster and the processes it started (backends, walsenders, checkpointer…).
    public func postgresProcesses() -> [pid_t] {
        guard let postmaster = postmasterPID() else { return [] }
        return [postmaster] + ProcessTable.children(of: postmaster)
    }

    /// Edits the configuration file in place (owner and mode kept), as an operator would
    /// before `systemctl reload`.
    public func editConfig(_ edit: (String) -> String) throws {
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try edit(text).write(toFile: configPath, atomically: false, encoding: .utf8)
    }

    func postmasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let pid = pid_t(text.split(separator: "\n").first ?? "") else { return nil }
        return kill(pid, 0) == 0 ? pid : nil
    }

    public func logTail(lines: Int = 40) -> String {
        let log = current?.logPath ?? ""
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return "--- \(name) (\(log)) ---\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Everything this agent has logged, across restarts.
    public func fullLog() -> String {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("agent-") && $0.hasSuffix(".log") }.sorted()
        return files.compactMap { try? String(contentsOfFile: directory.sub($0), encoding: .utf8) }.joined()
    }

    // MARK: REST

    /// `GET path` on the agent's REST API: the status code and the JSON body (nil when none or unreachable).
    public func get(_ path: String) async -> (status: Int, json: [String: Any]?) {
        var request = HTTPClientRequest(url: restURL + path)
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return (0, nil) }
        let body = try? await response.body.collect(upTo: 1 << 20)
        let json = body.flatMap { try? JSONSerialization.jsonObject(with: Data(buffer: $0)) as? [String: Any] }
        return (Int(response.status.code), json)
    }

    /// Any request to the REST API: the status code and the body as text (0 when unreachable).
    public func request(_ method: String, _ path: String, body: String? = nil, username: String? = nil,
                        password: String? = nil, contentLength: Bool = true) async -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: restURL + path)
        request.method = .init(rawValue: method)
        if let username, let password {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        }
        if let body {
            let bytes = ByteBuffer(string: body)
            request.body = contentLength ? .bytes(bytes) : .stream(AsyncStream<ByteBuffer> { c in c.yield(bytes); c.finish() }, length: .unknown)
        }
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(40)) else { return (0, "") }
        let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
        return (Int(response.status.code), text)
    }

    public func isPrimary() async -> Bool { await get("/primary").status == 200 }
    public func isStreamingReplica() async -> Bool {
        let (status, json) = await get("/replica")
        return status == 200 && json?["replication_state"] as? String == "streaming"
    }

    // MARK: SQL

    /// Runs `body` on a superuser connection, closed afterwards whether `body` threw or not.
    public func withSQL<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect()
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func connect() async throws -> PostgresConnection {
        try await PostgresEndpoint(host: host, port: postgresPort, username: "postgres", password: Self.superuserPassword)
            .connect(logger: Logger(label: "test-agent-sql"))
    }
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(_ timeout: Duration, every interval: Duration = .milliseconds(200),
                       _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}
