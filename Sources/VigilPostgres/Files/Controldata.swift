import VigilCore

/// `pg_controldata`'s report, the source of truth about a stopped data directory.
struct Controldata: Equatable {
    var fields: [String: String]

    init(output: String) {
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.fields = fields
    }

    var clusterState: String? { fields["Database cluster state"] }
    var systemIdentifier: String? { fields["Database system identifier"] }
    var cleanlyShutDown: Bool { clusterState == "shut down" || clusterState == "shut down in recovery" }
    var wasReplica: Bool { clusterState == "shut down in recovery" || clusterState == "in archive recovery" }

    /// Where this directory's WAL ends, and on which timeline: for a replica the minimum
    /// recovery point (a replay position), for a primary its last checkpoint (as Patroni reads
    /// it). A directory in recovery with no minimum recovery point yet (a primary restarted as
    /// a replica after its shutdown checkpoint replays nothing past it) ends at that checkpoint,
    /// and is judged as the primary it was: the checkpoint record itself is WAL the new
    /// timeline may lack.
    var endOfWAL: (timeline: Int64, lsn: Int64, isReplayPosition: Bool)? {
        let checkpointTimeline = fields["Latest checkpoint's TimeLineID"].flatMap { Int64($0) }
        if wasReplica, let lsn = fields["Minimum recovery ending location"].flatMap(LSN.init), lsn.value > 0 {
            let timeline = fields["Min recovery ending loc's timeline"].flatMap { Int64($0) } ?? 0
            return (timeline > 0 ? timeline : checkpointTimeline ?? 0, Int64(clamping: lsn.value), true)
        }
        guard let timeline = checkpointTimeline, let lsn = fields["Latest checkpoint location"].flatMap(LSN.init) else {
            return nil
        }
        return (timeline, Int64(clamping: lsn.value), false)
    }
}
