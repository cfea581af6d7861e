import Foundation
import VigilPostgres
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL 18 server on its own loopback address, for one test: a fresh data
/// directory (initdb, SCRAM, checksums), run as the unprivileged service user when the
/// tests run as root, stopped and removed afterwards.
public final class TestPostgres: Sendable {
    public let host: String
    public let port: Int
    public let superuser = "postgres"
    public let password: String
    public let dataDirectory: String
    public let socketDirectory: String
    public let binDirectory: String
    public let user: ServiceUser
    public let process: ChildProcess
    public let directory: TestDirectory

    private init(host: String, port: Int, password: String, dataDirectory: String, socketDirectory: String,
                 binDirectory: String, user: ServiceUser, process: ChildProcess, directory: TestDirectory) {
        self.host = host
        self.port = port
        self.password = password
        self.dataDirectory = dataDirectory
        self.socketDirectory = socketDirectory
        self.binDirectory = binDirectory
        self.user = user
        self.process = process
        self.directory = directory
    }

    public static func start(readyTimeout: Duration = .seconds(60)) async throws -> TestPostgres {
        let bin = try TestTools.postgresBinDirectory()
        let user = try ServiceUser.current()
        let (host, port) = try LoopbackAddress.freeEndpoint()
        let directory = try TestDirectory.make("pg")
        do {
            let data = try directory.makeOwned("data", by: user)
            let sockets = try directory.makeOwned("sockets", by: user, mode: 0o755)
            let password = UUID().uuidString
            let passwordFile = directory.sub("pwfile")
            guard FileManager.default.createFile(atPath: passwordFile, contents: Data(password.utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw HarnessError("cannot write \(passwordFile)")
            }
            try user.own(passwordFile)
            let initdb = try await ChildProcess.spawn(bin + "/initdb", [
                "-D", data, "-U", "postgres", "--pwfile=\(passwordFile)", "--auth=scram-sha-256",
                "--encoding=UTF8", "--no-locale", "--data-checksums", "--no-sync",
            ], owner: user.owner, logPath: directory.sub("initdb.log"))
            let status = await initdb.waitForExit(timeout: .seconds(120))
            try? FileManager.default.removeItem(atPath: passwordFile)
            guard status?.isSuccess == true else {
                throw HarnessError("initdb failed (\(status.map { "\($0)" } ?? "timed out")):\n\(initdb.logTail())")
            }
            let process = try await ChildProcess.spawn(bin + "/postgres", [
                "-D", data, "-c", "listen_addresses=\(host)", "-c", "port=\(port)",
                "-c", "unix_socket_directories=\(sockets)", "-c", "logging_collector=off",
            ], owner: user.owner, logPath: directory.sub("postgres.log"))
            let server = TestPostgres(host: host, port: port, password: password, dataDirectory: data,
                                      socketDirectory: sockets, binDirectory: bin, user: user, process: process,
                                      directory: directory)
            do {
                try await server.waitUntilReady(timeout: readyTimeout)
            } catch {
                await server.stop()
                throw error
            }
            return server
        } catch {
            directory.remove()
            throw error
        }
    }

    func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw HarnessError("postgres exited during startup:\n\(process.logTail())")
            }
            let probe = try await ChildProcess.spawn(binDirectory + "/pg_isready", [
                "-h", host, "-p", "\(port)", "-t", "1", "-q",
            ], logPath: directory.sub("pg_isready.log"))
            if await probe.waitForExit(timeout: .seconds(3))?.isSuccess == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("PostgreSQL at \(host):\(port) not ready after \(timeout):\n\(process.logTail())")
    }

    /// Fast shutdown (SIGINT), then the directory is removed.
    public func stop() async {
        await process.stop(signal: SIGINT, grace: .seconds(20))
        directory.remove()
    }

    /// Runs `body` with a fresh server and stops it afterwards, whether `body` succeeded or threw.
    public static func with<T>(_ body: (TestPostgres) async throws -> T) async throws -> T {
        try await withStarted({ try await start() }, stop: { await $0.stop() }, body)
    }
}
