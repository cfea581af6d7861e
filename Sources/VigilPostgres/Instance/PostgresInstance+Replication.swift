import Foundation
import VigilCore
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

extension PostgresInstance {
    /// Makes this node a replica of `primary` with the first replica method that works (a base
    /// backup by default), then starts it as a streaming replica.
    public func createReplica(from primary: HostPort) async throws(InstanceError) {
        if hasFiles(dataPath) {
            throw InstanceError(.dataDirectory, "data directory \(dataPath) is not empty; a replica is cloned only into an empty one (reinitialize replaces a full one)")
        }
        try await clone(from: primary, replacing: false)
        state = .stopped
        try await start(.replica(of: primary))
    }

    /// Replaces the data directory with a fresh copy of `primary` (after a failed rewind, or on
    /// an operator's request). The old directory is removed only once a copy is complete.
    public func reinitialize(from primary: HostPort) async throws(InstanceError) {
        try await stop(.immediate, timeout: .seconds(30))
        try await clone(from: primary, replacing: true)
        state = .stopped
        try await start(.replica(of: primary))
    }

    /// Tries the replica methods in order until one leaves a data directory. A directory being
    /// replaced is moved aside, not removed, until one has: if none works, it is as it was.
    /// With one method its own error is thrown; with several, every method's, in order.
    func clone(from primary: HostPort, replacing: Bool) async throws(InstanceError) {
        var failures: [(method: String, error: InstanceError)] = []
        for method in settings.replicaMethods {
            do {
                if method.isBasebackup {
                    try swapIn(try await baseBackup(from: primary), replacing: replacing)
                } else {
                    try await runReplicaMethod(method, from: primary, replacing: replacing)
                }
                return
            } catch {
                failures.append((method.name, error))
            }
        }
        guard let last = failures.last else { throw InstanceError(.command, "no replica method is configured") }
        if failures.count == 1 { throw last.error }
        throw InstanceError(last.error.kind, "no replica method made a copy of \(primary.host):\(primary.port): "
                            + failures.map { "\($0.method): \($0.error.message)" }.joined(separator: "; "))
    }

    /// Puts a complete copy where the data directory is (the old one moved aside until then).
    func swapIn(_ copy: String, replacing: Bool) throws(InstanceError) {
        let old = dataPath + ".vigil-old"
        if replacing {
            try? FileManager.default.removeItem(atPath: old)
            if FileManager.default.fileExists(atPath: dataPath), rename(dataPath, old) != 0 {
                try? FileManager.default.removeItem(atPath: copy)
                throw InstanceError(.permission, "cannot move \(dataPath) aside: \(String(cString: strerror(errno)))")
            }
        } else {
            try? FileManager.default.removeItem(atPath: dataPath)
        }
        guard rename(copy, dataPath) == 0 else {
            try? FileManager.default.removeItem(atPath: copy)
            if replacing { _ = rename(old, dataPath) }
            throw InstanceError(.permission, "cannot move the new copy into \(dataPath): \(String(cString: strerror(errno)))")
        }
        if replacing { try? FileManager.default.removeItem(atPath: old) }
    }

    /// A user's replica method (a restore from a backup tool), run as PostgreSQL's user with
    /// Patroni's arguments, writing the data directory itself. It counts as done only when
    /// it exits 0 and a cluster is there.
    func runReplicaMethod(_ method: ReplicaMethod, from primary: HostPort, replacing: Bool) async throws(InstanceError) {
        guard let program = method.command.first else { throw InstanceError(.command, "\(method.name) has no command") }
        let old = dataPath + ".vigil-old"
        var movedAside = false
        if replacing, !method.keepData, hasFiles(dataPath) {
            try? FileManager.default.removeItem(atPath: old)
            guard rename(dataPath, old) == 0 else {
                throw InstanceError(.permission, "cannot move \(dataPath) aside: \(String(cString: strerror(errno)))")
            }
            movedAside = true
        }
        // What a failed method leaves goes (unless keep_data); a directory moved aside comes back.
        func undo() {
            if !method.keepData || movedAside { try? FileManager.default.removeItem(atPath: dataPath) }
            if movedAside { _ = rename(old, dataPath) }
        }
        let connstring = "dbname=\(settings.database) user=\(settings.replication.username) host=\(primary.host) port=\(primary.port)"
        let arguments = Array(method.command.dropFirst())
            + method.arguments(scope: settings.scope, dataDirectory: dataPath, connstring: connstring)
        let run: ToolRun
        do {
            try writePgpass()
            run = try await runTool(ExecutablePath.locate(program), arguments, owner: owner,
                                    environment: ["PGPASSFILE": settings.pgpassPath, "PGCONNECT_TIMEOUT": "5",
                                                  "PGAPPNAME": settings.memberName],
                                    timeout: .seconds(86_400), logPath: toolLog(method.name))
        } catch {
            undo()
            throw InstanceError(error.kind, "replica method \(method.name): \(error.message)")
        }
        guard run.succeeded, FileManager.default.fileExists(atPath: path("PG_VERSION")) else {
            undo()
            let lastLines = run.output.split(separator: "\n").suffix(3).joined(separator: " ")
            let outcome = run.succeeded ? "left no cluster in \(dataPath)" : "failed (\(run.status.map { "\($0)" } ?? "timed out"))"
            throw InstanceError(.command, "replica method \(method.name) (\(method.command.joined(separator: " "))) \(outcome): \(lastLines)")
        }
        if movedAside { try? FileManager.default.removeItem(atPath: old) }
    }

    private func hasFiles(_ directory: String) -> Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
    }

    /// pg_basebackup into `<data_dir>.vigil-new`; returns that path. On failure nothing is left.
    func baseBackup(from primary: HostPort) async throws(InstanceError) -> String {
        let copy = dataPath + ".vigil-new"
        try? FileManager.default.removeItem(atPath: copy)
        let parent = (dataPath as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw InstanceError(.permission, "cannot create \(copy): \(error.localizedDescription)")
        }
        try give(copy)
        try writePgpass()
        let arguments = ["-D", copy, "-X", "stream", "--checkpoint=fast", "-h", primary.host, "-p", String(primary.port),
                         "-U", settings.replication.username, "--no-password"] + settings.basebackupArguments
        let run = try await runTool(settings.binaries.pgBasebackup, arguments, owner: owner,
                                        environment: ["PGPASSFILE": settings.pgpassPath, "PGCONNECT_TIMEOUT": "5",
                                                      "LC_MESSAGES": "C", "PGAPPNAME": settings.memberName],
                                        timeout: .seconds(3600), logPath: toolLog("basebackup"))
        guard run.succeeded else {
            try? FileManager.default.removeItem(atPath: copy)
            let lastLines = run.output.split(separator: "\n").suffix(3).joined(separator: " ")
            if run.output.contains("password authentication failed") || run.output.contains("no password supplied") {
                throw InstanceError(.authentication, "pg_basebackup from \(primary.host):\(primary.port) was refused: wrong password for replication user \(settings.replication.username); check postgresql.authentication.replication")
            }
            throw InstanceError(.command, "pg_basebackup from \(primary.host):\(primary.port) failed: \(lastLines)")
        }
        return copy
    }

    /// Ends recovery and waits until this node accepts writes (`pg_promote` with wait).
    ///
    /// PostgreSQL names the new timeline one past the newest history file it can find. A
    /// replica that missed a promotion elsewhere would reuse that number for a different
    /// branch, which pg_rewind and streaming later take for the same history. So the store's
    /// history (`knownHistory`) is laid into pg_wal first as history files for every timeline
    /// this directory lacks, and the new timeline lands above all of them.
    ///
    /// - Returns: why the timelines were not reserved, when the store's history names one no
    ///   real cluster reaches (the promotion goes on: PostgreSQL then numbers it itself).
    @discardableResult
    public func promote(knownHistory: [TimelineEvent] = [], timeout: Duration = .seconds(60)) async throws(InstanceError) -> String? {
        guard state == .running else { throw InstanceError(.state, "cannot promote: PostgreSQL is not running") }
        guard try await isInRecovery() else { return nil }
        let skipped = try reserveTimelines(knownHistory)
        let seconds = max(1, Int(timeout.components.seconds))
        let answer = try await sql.rows("SELECT pg_promote(true, \(seconds))::text", timeout: timeout + .seconds(5))
        guard answer.first?.first == "true" else {
            throw InstanceError(.timeout, "promotion did not finish within \(seconds) s")
        }
        // A later restart must come up as a primary too.
        try writeConfiguration(.primary)
        return skipped
    }

    /// The most history files one promotion writes. PostgreSQL looks for them one after the
    /// other, so a history naming timeline 10⁹ (a damaged or hostile key) would mean a billion
    /// files; no real cluster has promoted this often.
    static let reservableTimelines: Int64 = 10_000

    /// Writes `0000000N.history` for each timeline the store knows and pg_wal lacks; returns
    /// why nothing was written when the history names a timeline beyond any real cluster's.
    func reserveTimelines(_ history: [TimelineEvent]) throws(InstanceError) -> String? {
        guard let newest = history.map(\.timeline).max() else { return nil }
        guard newest < Self.reservableTimelines else {
            return "the store's history names timeline \(newest), beyond the \(Self.reservableTimelines) any real cluster reaches: no timelines reserved"
        }
        for timeline in 2...max(2, newest + 1) {
            let file = path(String(format: "pg_wal/%08X.history", timeline))
            guard !FileManager.default.fileExists(atPath: file) else { continue }
            let lines = history.filter { $0.timeline < timeline }.map {
                "\($0.timeline)\t\(LSN(UInt64(max(0, $0.lsn))))\t\($0.reason.isEmpty ? "promoted elsewhere" : $0.reason)"
            }
            try ManagedFiles.write(lines.joined(separator: "\n") + "\n", to: file, mode: 0o600, owner: effectiveOwner)
        }
        return nil
    }

    /// Stops a primary (fast, so the shutdown checkpoint reaches the replicas) and starts it
    /// again as a replica of `newPrimary`.
    public func demote(following newPrimary: HostPort, mode: StopMode = .fast) async throws(InstanceError) {
        try await stop(mode)
        try await start(.replica(of: newPrimary))
    }

    /// One change to the slots, each safe to repeat: a slot is created only where none of that
    /// name exists (reserving WAL at once, so a member that connects later finds its WAL), one
    /// that something streams through is never dropped, and an advance never moves a slot
    /// back or past what this server has (PostgreSQL clamps it). Returns whether it changed
    /// anything (a create or drop already done, or a slot in use, changes nothing).
    @discardableResult
    public func changeSlot(_ change: SlotChange) async throws(InstanceError) -> Bool {
        let rows: [[String?]]
        switch change {
        case let .create(name):
            let slot = SQLText.literal(name)
            rows = try await sql.rows("""
                SELECT pg_create_physical_replication_slot(\(slot), true)::text WHERE NOT EXISTS
                (SELECT 1 FROM pg_replication_slots WHERE slot_name = \(slot))
                """)
        case let .drop(name):
            rows = try await sql.rows("""
                SELECT pg_drop_replication_slot(slot_name)::text FROM pg_replication_slots
                WHERE slot_name = \(SQLText.literal(name)) AND NOT active
                """)
        case let .advance(name, lsn):
            rows = try await sql.rows("""
                SELECT pg_replication_slot_advance(slot_name, \(SQLText.literal(LSN(UInt64(max(0, lsn))).description))::pg_lsn)::text
                FROM pg_replication_slots WHERE slot_name = \(SQLText.literal(name)) AND NOT active
                """)
        }
        return !rows.isEmpty
    }

    func isInRecovery() async throws(InstanceError) -> Bool {
        try await sql.rows("SELECT pg_is_in_recovery()::text").first?.first == "true"
    }

    /// Runs SQL as the superuser (for tests, and for the agent's own checks).
    public func query(_ sql: String, timeout: Duration = .seconds(10)) async throws(InstanceError) -> [[String?]] {
        try await self.sql.rows(sql, timeout: timeout)
    }
}
