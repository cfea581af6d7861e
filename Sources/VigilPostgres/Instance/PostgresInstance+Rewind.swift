import Foundation
import PostgresNIO
import VigilCore
import VigilSystem

extension PostgresInstance {
    /// The new primary's timeline and history: what a local end of WAL is compared with. Asked
    /// before anything local is stopped, so a leader that cannot answer stops nothing here.
    /// Read with `pg_read_binary_file`, which Patroni's documented grants give a rewind role.
    func leaderHistory(of primary: HostPort) async throws(InstanceError) -> TimelineDivergence.LeaderHistory {
        let remote = SQLSession(host: primary.host, port: primary.port, credentials: rewindRole, database: settings.database)
        defer { Task { await remote.close() } }
        let timelineHex = try await remote.rows("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)").first?.first ?? nil
        guard let timelineHex, let primaryTimeline = Int64(timelineHex, radix: 16) else {
            throw InstanceError(.state, "\(primary.host):\(primary.port) is not a primary (it is in recovery)")
        }
        var history: [TimelineDivergence.HistoryEntry] = []
        if primaryTimeline > 1 {
            let file = String(format: "pg_wal/%08X.history", primaryTimeline)
            let text = try await remote.rows("SELECT convert_from(pg_read_binary_file(\(SQLText.literal(file))), 'UTF8')")
                .first?.first ?? nil
            history = TimelineDivergence.parseHistory(text ?? "")
        }
        return TimelineDivergence.LeaderHistory(timeline: primaryTimeline, history: history)
    }

    /// Whether this (stopped) data directory has WAL the new primary lacks, so that it must be
    /// rewound before it can follow.
    public func needsRewind(against primary: HostPort) async throws(InstanceError) -> Bool {
        try await stoppedDirectoryDiverged(from: leaderHistory(of: primary))
    }

    /// Whether this stopped data directory has WAL the leader lacks (pg_controldata's end of
    /// WAL against the leader's history), so that it must be rewound before it can follow.
    func stoppedDirectoryDiverged(from leader: TimelineDivergence.LeaderHistory) async throws(InstanceError) -> Bool {
        guard let end = try await controldata().endOfWAL else {
            throw InstanceError(.command, "pg_controldata did not report where the WAL of \(dataPath) ends")
        }
        return leader.needsRewind(localTimeline: end.timeline, localLSN: end.lsn, inRecovery: end.isReplayPosition)
    }

    /// Where a running replica's WAL ends, without stopping it (as Patroni asks a running one):
    /// the end of the last record it replayed, on its last checkpoint's timeline. Meant for a
    /// replica with no upstream (a demoted primary started read-only): it received nothing, so
    /// what it replayed is all it has. nil (ask the stopped directory instead) when it is not
    /// running in recovery, does not answer, or may have replayed past a timeline switch its
    /// last checkpoint predates (a history file above that checkpoint's timeline in pg_wal: a
    /// promotion without a checkpoint since, or timelines fetched from an earlier upstream),
    /// since the checkpoint's timeline would then not be the one it replays on.
    func runningEndOfWAL() async -> (timeline: Int64, lsn: Int64)? {
        guard state == .running,
              let row = try? await sql.rows("""
                  SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text,
                         (SELECT timeline_id FROM pg_control_checkpoint())::text
                  """).first, row.count == 3, row[0] == "true",
              let lsn = Self.lsn(row[1]), let timeline = row[2].flatMap({ Int64($0) }) else { return nil }
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: path("pg_wal")) else { return nil }
        let newest = files.compactMap { name -> Int64? in
            guard name.count == 16, name.hasSuffix(".history") else { return nil }
            return Int64(name.prefix(8), radix: 16)
        }.max() ?? 0
        return newest > timeline ? nil : (timeline, lsn)
    }

    /// Rewinds the stopped data directory onto `primary`'s timeline with pg_rewind, keeping this
    /// node's own configuration files, then starts it as a replica. When pg_rewind fails and
    /// `remove_data_directory_on_rewind_failure` allows it, takes a fresh copy instead.
    public func rewind(from primary: HostPort) async throws(InstanceError) {
        try await stop(.fast)
        try await ensureCleanShutdown()
        let kept = keepConfigurationFiles()
        try writePgpass()
        let role = rewindRole
        let source = ["host": primary.host, "port": String(primary.port), "user": role.username,
                      "dbname": settings.database, "passfile": settings.pgpassPath, "connect_timeout": "5"]
            .sorted { $0.key < $1.key }.map { "\($0.key)=\(ManagedFiles.conninfoValue($0.value))" }.joined(separator: " ")
        let run = try await runTool(settings.binaries.pgRewind, ["-D", dataPath, "--source-server=\(source)"],
                                        owner: owner, environment: ["LC_MESSAGES": "C"], timeout: .seconds(3600),
                                        logPath: toolLog("rewind"))
        try restore(kept)
        guard run.succeeded else {
            let why = run.output.split(separator: "\n").suffix(3).joined(separator: " ")
            if settings.removeDataDirectoryOnRewindFailure {
                try await reinitialize(from: primary)
                return
            }
            throw InstanceError(.command, "pg_rewind from \(primary.host):\(primary.port) failed: \(why)")
        }
        try await start(.replica(of: primary))
    }

    /// The role pg_rewind and the divergence check connect as: `authentication.rewind`, else the superuser.
    var rewindRole: RoleCredentials { settings.rewind ?? settings.superuser }

    /// pg_rewind needs a cleanly shut down target: after a crash, let PostgreSQL finish crash
    /// recovery in single-user mode first (it exits when its input ends).
    func ensureCleanShutdown() async throws(InstanceError) {
        let control = try await controldata()
        guard !control.cleanlyShutDown else { return }
        try await waitForOldProcesses()
        // Single-user mode refuses to run in standby mode: the signal files are set aside meanwhile.
        let signals = ["standby.signal", "recovery.signal"].filter { FileManager.default.fileExists(atPath: path($0)) }
        for name in signals { try? FileManager.default.moveItem(atPath: path(name), toPath: path(name + ".vigil-aside")) }
        defer {
            for name in signals { try? FileManager.default.moveItem(atPath: path(name + ".vigil-aside"), toPath: path(name)) }
        }
        let run = try await runTool(settings.binaries.postgres,
                                        ["--single", "-D", dataPath, "-c", "archive_mode=off", settings.database],
                                        owner: owner, environment: ["LC_MESSAGES": "C"], timeout: .seconds(600),
                                        logPath: toolLog("single-user"))
        let after = try await controldata()
        guard after.cleanlyShutDown else {
            throw InstanceError(.command, "crash recovery of \(dataPath) did not finish (state: \(after.clusterState ?? "unknown")): \(run.output.suffix(300))")
        }
    }

    /// pg_rewind copies the source's configuration files over ours; this node's are saved
    /// before and put back after.
    func keepConfigurationFiles() -> [String: Data] {
        var kept: [String: Data] = [:]
        for name in ["postgresql.conf", "pg_hba.conf", "pg_ident.conf", "postgresql.auto.conf", ManagedFiles.managedConfName] {
            kept[name] = FileManager.default.contents(atPath: path(name))
        }
        return kept
    }

    func restore(_ kept: [String: Data]) throws(InstanceError) {
        for (name, data) in kept {
            try ManagedFiles.write(String(decoding: data, as: UTF8.self), to: path(name), mode: 0o600, owner: effectiveOwner)
        }
    }
}
