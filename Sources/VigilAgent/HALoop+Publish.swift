import Foundation
import VigilAPI
import VigilCore
import VigilPostgres

extension HALoop {
    /// The member key (Patroni's touch_member). Whether it extends this member's lease, which
    /// may carry the leader key, is the machine's to say (`Observation.memberWriteMayExtendLease`).
    func publishMember(extendingLease: Bool) async {
        refreshSnapshot(lastStatus)
        let snapshot = box.snapshot()
        let pg = snapshot.postgres
        var record = MemberRecord(connURL: setup.connURL, apiURL: setup.apiURL, state: snapshot.stateText,
                                  role: snapshot.role, version: VigilVersion.string)
        if case let .object(entries) = effectiveTags, !entries.isEmpty { record.tags = effectiveTags }
        if snapshot.isRunning {
            record.xlogLocation = pg.walPosition
            if pg.role == .replica {
                record.replayLSN = pg.replayLSN
                record.receiveLSN = pg.receiveLSN
                record.replicationState = pg.replicationState
            }
            record.timeline = pg.timeline
            record.pendingRestart = !pg.pendingRestart.isEmpty
        }
        record.pause = settings.paused
        if let (request, _) = machine.scheduledRestart {
            var o: [(key: String, value: JSONValue)] = [("schedule", .string(request.schedule ?? ""))]
            if let version = request.postgresVersion { o.append(("postgres_version", .string(version))) }
            record.scheduledRestart = .object(o)
        }
        do {
            try await store.publishMember(record, extendingLease: extendingLease)
        } catch {
            logger.warning("writing the member key failed: \(error)")
        }
    }

    /// The tags as published: the configured ones, with nosync and sync_priority 0 while this
    /// member asks to be released from synchronous standby (as Patroni's effective tags).
    var effectiveTags: JSONValue {
        guard releasingSync else { return setup.tags }
        var entries = setup.tags.objectValue ?? []
        entries.removeAll { $0.key == "nosync" || $0.key == "sync_priority" }
        entries += [("nosync", true), ("sync_priority", .int(0))]
        return .object(entries)
    }

    /// Replaces the REST API's snapshot with this cycle's view.
    func refreshSnapshot(_ status: PostgresStatus) {
        let current = self.settings
        let leaderUntil = machine.leaderUntil.map { clock.instant($0) }
        let hasData = instance.hasDataDirectory
        let internalRole = !hasData ? "uninitialized" : (instance.dataDirectoryRole == .replica ? "replica" : "primary")
        let cluster = lastCluster
        let readAt = lastClusterReadAt.map { clock.instant($0) }
        let seen = storeDownSince == nil && readAt != nil ? Int64(clock.wallClock) : nil
        let answering = postgresAnswering
        let tags = effectiveTags
        box.update { s in
            s.postgres = status
            s.postgresAnswering = answering
            s.internalRole = internalRole
            s.cluster = cluster
            s.clusterReadAt = readAt
            if let seen { s.dcsLastSeen = seen }
            s.leaderUntil = leaderUntil
            s.paused = current.paused
            s.syncMode = current.sync.mode
            s.tags = tags
            s.ttl = current.timings.ttl
            s.maximumLagOnFailover = current.maximumLagOnFailover
        }
    }
}
