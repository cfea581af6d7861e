import Foundation
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the agent reads from a data directory that may not be running, and the small
/// changes it makes to a running replica.
extension PostgresInstance {
    /// Whether the data directory holds a cluster (PG_VERSION present).
    public nonisolated var hasDataDirectory: Bool {
        FileManager.default.fileExists(atPath: (settings.dataDirectory as NSString).appendingPathComponent("PG_VERSION"))
    }

    /// The role the data directory would start in: a replica when `standby.signal` is present.
    public nonisolated var dataDirectoryRole: PostgresStatus.Role {
        let signal = (settings.dataDirectory as NSString).appendingPathComponent("standby.signal")
        return FileManager.default.fileExists(atPath: signal) ? .replica : .primary
    }

    /// The system identifier of the data directory, running or not (pg_controldata).
    public func systemIdentifier() async throws(InstanceError) -> String {
        if let cached = cachedSystemIdentifier { return cached }
        guard let id = try await controldata().systemIdentifier else {
            throw InstanceError(.command, "pg_controldata reported no system identifier for \(dataPath)")
        }
        cachedSystemIdentifier = id
        return id
    }

    /// Points a running replica at another upstream (primary_conninfo reloads without a restart).
    public func follow(_ upstream: HostPort) async throws(InstanceError) {
        currentRole = .replica(of: upstream)
        try await reload()
    }

    /// Brings the data directory back as a replica of `upstream`, rewinding it first when its
    /// history forked from the upstream's (and pg_rewind is allowed). The leader is asked
    /// before anything here stops, so one that cannot answer stops nothing.
    /// Returns whether a rewind was needed.
    @discardableResult
    public func rejoin(_ upstream: HostPort) async throws(InstanceError) -> Bool {
        guard settings.usePgRewind else {
            if state == .running || state == .starting { try await stop(.fast) }
            try await start(.replica(of: upstream))
            return false
        }
        let leader = try await leaderHistory(of: upstream)
        if state == .running || state == .starting { try await stop(.fast) }
        try await ensureCleanShutdown()
        if try await stoppedDirectoryDiverged(from: leader) {
            try await rewind(from: upstream)
            return true
        }
        try await start(.replica(of: upstream))
        return false
    }

    /// Where the running replica's WAL ends against `upstream`'s timeline history, as Patroni
    /// checks a running one: what it found, for the machine to decide on.
    public func checkTimeline(against upstream: HostPort) async -> TimelineDivergence.Check {
        guard let end = await runningEndOfWAL() else {
            return .needsStoppedCheck("the running server cannot show where its WAL ends")
        }
        let leader: TimelineDivergence.LeaderHistory
        do { leader = try await leaderHistory(of: upstream) } catch { return .leaderCannotTell("\(error)") }
        return leader.needsRewind(localTimeline: end.timeline, localLSN: end.lsn, inRecovery: true)
            ? .needsStoppedCheck("this node's WAL goes past where its timeline branched off") : .withinLeaderHistory
    }

    /// The switch that began the current timeline (from its history file), for the store's
    /// `history` key: the parent timeline and where it ended.
    public func currentTimelineSwitch(timeline: Int64) -> TimelineDivergence.HistoryEntry? {
        guard timeline > 1 else { return nil }
        let file = path(String(format: "pg_wal/%08X.history", timeline))
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return TimelineDivergence.parseHistory(text).last
    }
}

extension PostgresInstance {
    /// Takes new parameters from the cluster's dynamic configuration: the configuration file
    /// is rewritten and a running PostgreSQL reloads it. Returns the parameters that need a
    /// restart to take effect (command-line ones, and those PostgreSQL reports as pending).
    @discardableResult
    public func applyParameters(_ parameters: [(name: String, value: String)],
                                commandLine: [(name: String, value: String)]) async throws(InstanceError) -> [String] {
        self.parameters = parameters
        commandLineParameters = commandLine
        guard state == .running else { return [] }
        try await reload()
        // Give the postmaster a moment to re-read the files before asking what is pending.
        try? await Task.sleep(for: .milliseconds(300))
        let pending = (try? await sql.rows("SELECT name FROM pg_settings WHERE pending_restart", timeout: .seconds(5)))?
            .compactMap { $0.first ?? nil } ?? []
        return (pending + commandLinePending).sorted()
    }

    /// Sets synchronous_standby_names (Vigil's value, or back to the node's own) and reloads a
    /// running server; nothing when it is already so.
    public func setSyncStandbyNames(_ setting: SyncNamesSetting) async throws(InstanceError) {
        guard setting != syncNames else { return }
        syncNames = setting
        guard state == .running else { return try writeConfiguration(currentRole) }
        try await reload()
        // PostgreSQL reads the file a moment after the signal (Patroni gives it 100 ms).
        try? await Task.sleep(for: .milliseconds(100))
    }

    /// Command-line parameters whose configured value differs from what the postmaster runs with.
    var commandLinePending: [String] {
        guard !startedCommandLine.isEmpty else { return [] }
        return commandLineParameters.filter { wanted in
            startedCommandLine.first(where: { $0.name == wanted.name })?.value != wanted.value
        }.map(\.name)
    }
}

extension PostgresInstance {
    /// The postmaster a previous agent left running on this data directory (only a postgres
    /// running on this very directory: the pid may have been reused), and whether it runs as a
    /// replica; nil when there is none.
    public func leftoverPostmaster() -> (pid: Int32, runsAsReplica: Bool)? {
        guard postmaster == nil, let pid = livePostmasterFilePID() else { return nil }
        let arguments = ProcessTable.arguments(of: pid)
        guard arguments.first?.hasSuffix("postgres") == true, arguments.contains(dataPath) else { return nil }
        return (pid, dataDirectoryRole == .replica)
    }

    /// Takes the leftover postmaster over as it runs, as if this agent had started it: its exit
    /// is watched, stop and reload reach it, and `observe` sees it running once it answers.
    /// Replicas come back pointed at nothing until the first cycle points them at the leader.
    public func adoptLeftoverPostmaster() -> Int32? {
        guard let leftover = leftoverPostmaster() else { return nil }
        let process = ChildProcess.adopt(pid: leftover.pid, logPath: logFile)
        postmaster = process
        stopping = false
        generation += 1
        watch(process)
        currentRole = leftover.runsAsReplica ? .replica(of: nil) : .primary
        // What it really runs with (pending_restart compares against it), not what this agent would pass.
        startedCommandLine = Self.settings(onCommandLine: ProcessTable.arguments(of: leftover.pid))
        state = .starting
        return leftover.pid
    }

    public func closeSession() async {
        await sql.close()
    }

    /// `-c name=value` pairs of a postgres command line.
    static func settings(onCommandLine arguments: [String]) -> [(name: String, value: String)] {
        zip(arguments, arguments.dropFirst()).compactMap { flag, setting in
            guard flag == "-c", let equals = setting.firstIndex(of: "=") else { return nil }
            return (String(setting[..<equals]), String(setting[setting.index(after: equals)...]))
        }
    }

    /// A postmaster left running on this data directory by an agent that died on its own
    /// (kill -9 of the agent alone) is stopped (fast: a clean shutdown checkpoint), so the new
    /// agent starts it again as its own child and sees its exits. Returns its pid, if there was one.
    public func stopLeftoverPostmaster(timeout: Duration = .seconds(60)) async -> Int32? {
        guard let pid = leftoverPostmaster()?.pid else { return nil }
        kill(pid, SIGINT)
        let deadline = ContinuousClock.now + timeout
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if kill(pid, 0) == 0 {
            kill(pid, SIGQUIT)
            try? await Task.sleep(for: .seconds(1))
        }
        state = .stopped
        return pid
    }
}

extension PostgresInstance {
    /// SIGKILL to the postmaster, the last resort when it ignores every stop; true once it is gone.
    public func killPostmaster() async -> Bool {
        guard let postmaster, postmaster.isRunning else { return true }
        stopping = true
        // Its children too (each leads its own session, so no group signal reaches them, and once
        // the postmaster is gone they are no longer its children): a backend that outlived its
        // postmaster could still commit, and acknowledge, a write on a server being fenced.
        // Stopped first, so it forks nothing between the listing and the kill.
        postmaster.signal(SIGSTOP)
        let children = ProcessTable.children(of: postmaster.pid)
        postmaster.signal(SIGKILL)
        for child in children { kill(child, SIGKILL) }
        // A new postmaster cannot start while one of them still holds the shared memory.
        let deadline = ContinuousClock.now + .seconds(10)
        while !children.allSatisfy(ProcessTable.isGone), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard await postmaster.waitForExit(timeout: .seconds(10)) != nil else { return false }
        state = .stopped
        return true
    }
}
