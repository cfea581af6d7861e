import Foundation
import Subprocess
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL data directory and the postmaster running on it, as a child of the agent.
///
/// Every operation is bounded in time and leaves no half-state behind it: a failed initdb or
/// copy removes what it made, a copy is made beside the data directory and swapped in only
/// when complete, and an unexpected exit of the postmaster is reported the moment it happens.
public actor PostgresInstance {
    public enum StopMode: String, Sendable {
        /// Wait for clients to disconnect (SIGTERM).
        case smart
        /// Disconnect clients, write a shutdown checkpoint (SIGINT).
        case fast
        /// Exit at once; crash recovery on the next start (SIGQUIT).
        case immediate

        var signal: Int32 {
            switch self {
            case .smart: SIGTERM
            case .fast: SIGINT
            case .immediate: SIGQUIT
            }
        }
    }

    /// How PostgreSQL is to run: as a primary, or in recovery (streaming from `of`, or from
    /// nowhere yet: read-only until told whom to follow).
    public enum Role: Sendable, Equatable {
        case primary
        case replica(of: HostPort?)
    }

    public nonisolated let settings: InstanceSettings
    public nonisolated let owner: ProcessOwner?
    public nonisolated let logFile: String
    /// Unexpected exits of the postmaster (crash, kill -9, OOM), as they happen.
    public nonisolated let unexpectedExits: AsyncStream<TerminationStatus>
    private let exitContinuation: AsyncStream<TerminationStatus>.Continuation

    var postmaster: ChildProcess?
    var state: PostgresStatus.State
    var stopping = false
    /// Which postmaster the watch of an exit belongs to. `stop` sees its postmaster go by
    /// itself; that postmaster's watch can reach this actor only later, while the next start
    /// awaits its spawn (`postmaster` still the old one, `stopping` already reset), and must not
    /// report the new server as crashed.
    var generation = 0
    /// Read once per data directory (it changes only when the directory is replaced).
    var cachedSystemIdentifier: String?
    /// The parameters in force: the resolved settings at first, then whatever the cluster's
    /// dynamic configuration changed them to (`applyParameters`).
    var parameters: [(name: String, value: String)]
    var commandLineParameters: [(name: String, value: String)]
    /// synchronous_standby_names: the node's own, or Vigil's in synchronous mode (kept in the
    /// managed file, so it survives an agent restart).
    var syncNames: SyncNamesSetting = .configured
    /// The command-line parameters the running postmaster was started with.
    var startedCommandLine: [(name: String, value: String)] = []
    let sql: SQLSession

    /// - Parameters:
    ///   - owner: the OS user to run PostgreSQL as; nil runs it as this process's user.
    ///   - logFile: where PostgreSQL's own output goes (default: beside the data directory).
    public init(settings: InstanceSettings, owner: ProcessOwner? = nil, logFile: String? = nil) {
        self.settings = settings
        self.owner = owner
        self.logFile = logFile ?? settings.dataDirectory + ".log"
        (unexpectedExits, exitContinuation) = AsyncStream<TerminationStatus>.makeStream()
        parameters = settings.parameters
        commandLineParameters = settings.commandLineParameters
        sql = SQLSession(host: settings.localHost, port: settings.port, credentials: settings.superuser,
                         database: settings.database)
        let managed = (settings.dataDirectory as NSString).appendingPathComponent(ManagedFiles.managedConfName)
        if let text = try? String(contentsOfFile: managed, encoding: .utf8) { syncNames = ManagedFiles.syncNames(inManagedConf: text) }
        let versionFile = (settings.dataDirectory as NSString).appendingPathComponent("PG_VERSION")
        state = FileManager.default.fileExists(atPath: versionFile) ? .stopped : .uninitialized
    }

    var dataPath: String { settings.dataDirectory }
    func path(_ name: String) -> String { (dataPath as NSString).appendingPathComponent(name) }
    var effectiveOwner: ProcessOwner { owner ?? .current }

    public var currentState: PostgresStatus.State { state }
    public var postmasterPID: pid_t? { postmaster?.isRunning == true ? postmaster?.pid : nil }

    // MARK: Start and stop

    /// Starts PostgreSQL in `role` and waits until it accepts connections: at most `pg_ctl_timeout`, or,
    /// with `readyWithin`, that long, after which it returns with the server still `.starting`
    /// (`observe` sees it become `.running`). Either way a postmaster that exits while
    /// starting is an error.
    public func start(_ role: Role = .primary, readyWithin: Duration? = nil) async throws(InstanceError) {
        if let postmaster, postmaster.isRunning {
            throw InstanceError(.state, "PostgreSQL in \(dataPath) is already running (pid \(postmaster.pid))")
        }
        try checkDataDirectory()
        try checkNotRunningElsewhere()
        try await waitForOldProcesses()
        try checkAddressesFree()
        try writeConfiguration(role)
        cachedSystemIdentifier = nil
        state = .starting
        stopping = false
        generation += 1
        var arguments = ["-D", dataPath, "--config-file=\(path("postgresql.conf"))",
                         "-c", "listen_addresses=\(settings.listenHosts.joined(separator: ","))",
                         "-c", "port=\(settings.port)", "-c", "cluster_name=\(settings.scope)"]
        for (name, value) in commandLineParameters { arguments += ["-c", "\(name)=\(value)"] }
        startedCommandLine = commandLineParameters
        let process: ChildProcess
        do {
            process = try await ChildProcess.spawn(settings.binaries.postgres, arguments, owner: owner,
                                                   environment: ["LC_MESSAGES": "C"], logPath: logFile)
        } catch {
            state = .stopped
            throw InstanceError(error)
        }
        postmaster = process
        watch(process)
        if try await waitUntilReady(process, within: readyWithin ?? settings.startTimeout) {
            state = .running
        } else if readyWithin == nil {
            throw InstanceError(.timeout, "PostgreSQL did not accept connections within \(settings.startTimeout); see \(logFile)")
        }
    }

    /// A server left `.starting` by `start(readyWithin:)` becomes `.running` once it answers.
    func settleStart(timeout: Duration) async {
        guard state == .starting, let postmaster, postmaster.isRunning, !stopping else { return }
        // One probe, not waitUntilReady: that one marks a postmaster that exits as stopped, and
        // here its exit must stay the crash the watch reports.
        if (try? await sql.rows("SELECT 1", timeout: timeout)) != nil, state == .starting { state = .running }
    }

    /// Stops PostgreSQL and waits for the postmaster to exit (at most `timeout`).
    public func stop(_ mode: StopMode = .fast, timeout: Duration = .seconds(60)) async throws(InstanceError) {
        await sql.close()
        guard let postmaster, postmaster.isRunning else {
            if case .crashed = state {} else if state != .uninitialized { state = .stopped }
            return
        }
        stopping = true
        state = .stopping
        postmaster.signal(mode.signal)
        guard await postmaster.waitForExit(timeout: timeout) != nil else {
            throw InstanceError(.timeout, "PostgreSQL did not stop (\(mode.rawValue)) within \(timeout)")
        }
        state = .stopped
    }

    /// Re-reads the configuration files (SIGHUP).
    public func reload() async throws(InstanceError) {
        try writeConfiguration(currentRole)
        guard let postmaster, postmaster.isRunning else { throw InstanceError(.state, "PostgreSQL is not running") }
        postmaster.signal(SIGHUP)
    }

    public func restart(mode: StopMode = .fast) async throws(InstanceError) {
        let role = currentRole
        try await stop(mode)
        try await start(role)
    }

    /// The role the configuration files were last written for.
    public internal(set) var currentRole: Role = .primary

    func watch(_ process: ChildProcess) {
        let watched = generation
        Task { [weak self] in
            let status = await process.waitForExit()
            await self?.postmasterExited(process, status, generation: watched)
        }
    }

    private func postmasterExited(_ process: ChildProcess, _ status: TerminationStatus, generation watched: Int) {
        guard postmaster === process, watched == generation else { return }
        if stopping {
            state = .stopped
        } else {
            state = .crashed("\(status)")
            exitContinuation.yield(status)
        }
    }

    /// true once it answers, false when `within` passed first.
    private func waitUntilReady(_ process: ChildProcess, within: Duration) async throws(InstanceError) -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                state = .stopped
                throw InstanceError(.command, "PostgreSQL exited while starting:\n\(process.logTail(lines: 8))")
            }
            if (try? await sql.rows("SELECT 1", timeout: .seconds(2))) != nil { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    // MARK: Checks

    /// The data directory must be PostgreSQL 18's, owned by the user that runs it, private.
    func checkDataDirectory() throws(InstanceError) {
        var info = stat()
        guard stat(dataPath, &info) == 0 else {
            throw InstanceError(.dataDirectory, "data directory \(dataPath) does not exist; it is created by bootstrap or by cloning a replica")
        }
        let expected = effectiveOwner
        guard info.st_uid == expected.uid else {
            let actual = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
            throw InstanceError(.dataDirectory, "data directory \(dataPath) belongs to \(actual), but PostgreSQL runs as \(expected.name); chown -R \(expected.name) \(dataPath)")
        }
        let mode = info.st_mode & 0o777
        guard mode == 0o700 || mode == 0o750 else {
            throw InstanceError(.dataDirectory, "data directory \(dataPath) has mode \(String(mode, radix: 8)); PostgreSQL requires 700 or 750: chmod 700 \(dataPath)")
        }
        let version = (try? String(contentsOfFile: path("PG_VERSION"), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let version else {
            throw InstanceError(.dataDirectory, "\(dataPath) is not a PostgreSQL data directory (no PG_VERSION)")
        }
        guard version == "18" else {
            throw InstanceError(.dataDirectory, "\(dataPath) holds a PostgreSQL \(version) cluster; this node runs PostgreSQL 18")
        }
    }

    /// After a postmaster died (kill -9, OOM), its backends notice only a moment later, and a
    /// new postmaster refuses to start while one of them still holds the shared memory ("Terminate
    /// any old server processes"): they are given up to 5 s to go, rather than failing the start
    /// and waiting for the next cycle.
    func waitForOldProcesses() async throws(InstanceError) {
        let deadline = ContinuousClock.now + .seconds(5)
        var left = ProcessTable.postgresProcesses(workingIn: dataPath)
        while !left.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            left = ProcessTable.postgresProcesses(workingIn: dataPath)
        }
        guard left.isEmpty else {
            // Said here, not as PostgreSQL's shared-memory error on the start that would follow.
            throw InstanceError(.state, "processes of a stopped PostgreSQL still run in \(dataPath) after 5 s (pid \(left.map(String.init).joined(separator: ", "))); they hold its shared memory: stop them first")
        }
    }

    /// A postmaster.pid naming a live process means a PostgreSQL Vigil did not start owns the directory.
    func checkNotRunningElsewhere() throws(InstanceError) {
        if let pid = livePostmasterFilePID() {
            throw InstanceError(.state, "a PostgreSQL not started by Vigil is running on \(dataPath) (pid \(pid)); stop it first")
        }
    }

    /// The pid in postmaster.pid when that process is alive (possibly another user's).
    func livePostmasterFilePID() -> pid_t? {
        guard let text = try? String(contentsOfFile: path("postmaster.pid"), encoding: .utf8),
              let pid = pid_t(text.split(separator: "\n").first ?? ""), pid > 0 else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    func checkAddressesFree() throws(InstanceError) {
        for host in settings.listenHosts where !SocketProbe.isFree(host: host, port: settings.port) {
            throw InstanceError(.address, "port \(settings.port) on \(host) is already in use (postgresql.listen); stop what listens there or choose another port")
        }
    }

    // MARK: Configuration files

    /// Writes Vigil's managed settings, the include line, the replica signal and the password file.
    func writeConfiguration(_ role: Role) throws(InstanceError) {
        var upstream: HostPort?
        if case let .replica(of) = role { upstream = of }
        let owner = effectiveOwner
        try writePgpass()
        let upstreamSettings = upstream.map {
            ManagedFiles.Upstream(host: $0.host, port: $0.port, user: settings.replication.username,
                                  passfile: settings.pgpassPath, applicationName: settings.memberName,
                                  slot: settings.useSlots ? SlotName.forMember(settings.memberName) : nil)
        }
        try ManagedFiles.write(ManagedFiles.managedConf(parameters: parameters, upstream: upstreamSettings, syncNames: syncNames),
                               to: path(ManagedFiles.managedConfName), mode: 0o600, owner: owner)
        let confPath = path("postgresql.conf")
        let conf = (try? String(contentsOfFile: confPath, encoding: .utf8)) ?? ""
        if !conf.contains(ManagedFiles.includeLine) {
            try ManagedFiles.write(conf + (conf.hasSuffix("\n") || conf.isEmpty ? "" : "\n") + ManagedFiles.includeLine + "\n",
                                   to: confPath, mode: 0o600, owner: owner)
        }
        let signal = path("standby.signal")
        if role != .primary {
            if !FileManager.default.fileExists(atPath: signal) {
                try ManagedFiles.write("", to: signal, mode: 0o600, owner: owner)
            }
        } else {
            try? FileManager.default.removeItem(atPath: signal)
        }
        currentRole = role
    }

    func writePgpass() throws(InstanceError) {
        var roles = [settings.replication, settings.superuser]
        if let rewind = settings.rewind { roles.append(rewind) }
        try ManagedFiles.write(ManagedFiles.pgpass(roles), to: settings.pgpassPath, mode: 0o600, owner: effectiveOwner)
    }

    /// A scratch file path for a tool's output.
    func toolLog(_ tool: String) -> String {
        NSTemporaryDirectory() + "vigil-\(settings.memberName)-\(tool)-\(UUID().uuidString.prefix(8)).log"
    }

    /// Runs one of PostgreSQL's tools as the instance's owner (see ToolRun.run).
    func runTool(_ executable: String, _ arguments: [String], owner: ProcessOwner?, environment: [String: String],
                 timeout: Duration, logPath: String) async throws(InstanceError) -> ToolRun {
        do {
            return try await ToolRun.run(executable, arguments, owner: owner, environment: environment, timeout: timeout,
                                         logPath: logPath)
        } catch {
            throw InstanceError(error)
        }
    }

    /// Hands a file or directory this process made to the user PostgreSQL runs as.
    func give(_ path: String) throws(InstanceError) {
        try InstanceError.lifting { () throws(SystemError) in try effectiveOwner.own(path) }
    }

    /// pg_controldata's view of the (stopped) data directory.
    func controldata() async throws(InstanceError) -> Controldata {
        let run = try await runTool(settings.binaries.pgControldata, ["-D", dataPath], owner: owner,
                                        environment: ["LC_ALL": "C"], timeout: .seconds(30), logPath: toolLog("controldata"))
        guard run.succeeded else { throw InstanceError(.command, "pg_controldata failed: \(run.output)") }
        return Controldata(output: run.output)
    }
}
