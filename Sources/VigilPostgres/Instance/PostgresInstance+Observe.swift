import VigilCore

extension PostgresInstance {
    /// The instance as it is now. The process state comes from the child process itself;
    /// the rest from one round of queries, skipped (and left empty) when PostgreSQL is not
    /// running or does not answer within `timeout`.
    public func observe(timeout: Duration = .seconds(5)) async -> PostgresStatus {
        await settleStart(timeout: min(timeout, .seconds(2)))
        var status = PostgresStatus(state: state)
        status.syncNamesManaged = syncNames != .configured
        guard state == .running else { return status }
        do {
            let facts = try await sql.rows("""
                SELECT \(Self.positionColumns),
                       CASE WHEN pg_is_in_recovery()
                            THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))::text
                            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint::text END,
                       (SELECT status FROM pg_stat_wal_receiver),
                       pg_postmaster_start_time()::text,
                       (SELECT system_identifier FROM pg_control_system())::text,
                       current_setting('server_version_num')
                """, timeout: timeout)
            guard let row = facts.first, row.count == 9 else { return status }
            let positions = Self.positions(row)
            let inRecovery = positions.role == .replica
            status.role = positions.role
            status.receiveLSN = positions.receiveLSN
            status.replayLSN = positions.replayLSN
            status.walPosition = positions.walPosition
            status.timeline = row[4].flatMap { Int64($0) }
            if inRecovery { status.replicationState = row[5] == "streaming" ? "streaming" : "in archive recovery" }
            status.postmasterStartTime = row[6]
            status.systemIdentifier = row[7]
            status.serverVersion = row[8].flatMap { Int64($0) }
            status.pendingRestart = try await sql.rows("SELECT name FROM pg_settings WHERE pending_restart", timeout: timeout)
                .compactMap { $0.first ?? nil } + commandLinePending
            status.slots = try await sql.rows("""
                SELECT slot_name::text, slot_type, active::text, restart_lsn::text, database::text, plugin::text, wal_status,
                       (xmin IS NOT NULL OR catalog_xmin IS NOT NULL)::text
                FROM pg_replication_slots WHERE NOT temporary ORDER BY 1
                """, timeout: timeout).map { r in
                    ReplicationSlot(name: r[0] ?? "", type: r[1] ?? "", active: r[2] == "true", restartLSN: Self.lsn(r[3]),
                                    database: r[4], plugin: r[5], walStatus: r[6], holdsXmin: r[7] == "true")
                }
            if !inRecovery {
                status.replication = try await sql.rows("""
                    SELECT application_name, client_addr::text, state, sync_state, sent_lsn::text, flush_lsn::text,
                           replay_lsn::text, write_lsn::text, sync_priority::text
                    FROM pg_stat_replication ORDER BY application_name
                    """, timeout: timeout).map { r in
                        StandbyConnection(applicationName: r[0] ?? "", clientAddress: r[1], state: r[2] ?? "",
                                          syncState: r[3] ?? "", sentLSN: Self.lsn(r[4]), flushLSN: Self.lsn(r[5]), replayLSN: Self.lsn(r[6]),
                                          writeLSN: Self.lsn(r[7]), syncPriority: r[8].flatMap { Int64($0) })
                    }
                let sync = try await sql.rows(
                    "SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit')",
                    timeout: timeout)
                status.synchronousStandbyNames = sync.first?[0] ?? ""
                status.synchronousCommit = sync.first?[1] ?? "on"
            }
        } catch {
            // Running but not answering: the state says running, the facts stay unknown.
        }
        return status
    }
}

extension PostgresInstance {
    /// The WAL positions alone, in one query (for a peer's `GET /patroni`); nil when PostgreSQL
    /// is not running or does not answer within `timeout`.
    public func walPositions(timeout: Duration) async -> WALPositions? {
        guard state == .running,
              let row = try? await sql.rows("SELECT \(Self.positionColumns)", timeout: timeout).first, row.count == 4 else {
            return nil
        }
        return Self.positions(row)
    }

    /// The columns both reads begin with: in recovery, a primary's flushed position, the
    /// received and the replayed ones.
    static let positionColumns = """
        pg_is_in_recovery()::text,
        CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
        pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text
        """

    /// The positions from the first four columns of a row that begins with `positionColumns`.
    static func positions(_ row: [String?]) -> WALPositions {
        let inRecovery = row[0] == "true"
        let received = lsn(row[2])
        let replayed = lsn(row[3])
        return WALPositions(role: inRecovery ? .replica : .primary,
                            walPosition: inRecovery ? max(received ?? 0, replayed ?? 0) : lsn(row[1]),
                            receiveLSN: received, replayLSN: replayed)
    }

    /// An LSN as PostgreSQL prints it, as a number; nil for none, or for one past Int64 (no
    /// server gets there, but a value is not trusted to fit).
    static func lsn(_ text: String?) -> Int64? { text.flatMap(LSN.init).flatMap { Int64(exactly: $0.value) } }
}
