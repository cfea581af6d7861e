/// What one member publishes about itself under `members/<name>`, field for field as
/// Patroni writes it (the order of `jsonValue` is the order Patroni's JSON has).
public struct MemberRecord: Sendable, Equatable {
    public var connURL: String?
    public var apiURL: String?
    /// PostgreSQL's state as the agent sees it: running, starting, stopped, crashed, …
    public var state: String?
    /// primary, replica, standby_leader, demoted, uninitialized, promoted. Patroni before 4.0
    /// wrote `master`; reading maps it to `primary`.
    public var role: String?
    public var version: String?
    public var proxyURL: String?
    public var checkpointAfterPromote: Bool?
    /// The effective tags, kept as JSON so custom tags round-trip unchanged.
    public var tags: JSONValue?
    public var pendingRestart: Bool
    public var pendingRestartReason: JSONValue?
    /// Primary: flushed LSN; replica: the larger of received and replayed.
    public var xlogLocation: Int64?
    public var replayLSN: Int64?
    public var receiveLSN: Int64?
    public var replicationState: String?
    public var timeline: Int64?
    public var scheduledRestart: JSONValue?
    public var pause: Bool
    /// Fields this version does not know, kept so that rewriting a record loses nothing.
    public var unknownFields: [(key: String, value: JSONValue)]

    public init(connURL: String? = nil, apiURL: String? = nil, state: String? = nil, role: String? = nil,
                version: String? = nil, proxyURL: String? = nil, checkpointAfterPromote: Bool? = nil,
                tags: JSONValue? = nil, pendingRestart: Bool = false, pendingRestartReason: JSONValue? = nil,
                xlogLocation: Int64? = nil, replayLSN: Int64? = nil, receiveLSN: Int64? = nil,
                replicationState: String? = nil, timeline: Int64? = nil, scheduledRestart: JSONValue? = nil,
                pause: Bool = false) {
        self.connURL = connURL
        self.apiURL = apiURL
        self.state = state
        self.role = role
        self.version = version
        self.proxyURL = proxyURL
        self.checkpointAfterPromote = checkpointAfterPromote
        self.tags = tags
        self.pendingRestart = pendingRestart
        self.pendingRestartReason = pendingRestartReason
        self.xlogLocation = xlogLocation
        self.replayLSN = replayLSN
        self.receiveLSN = receiveLSN
        self.replicationState = replicationState
        self.timeline = timeline
        self.scheduledRestart = scheduledRestart
        self.pause = pause
        self.unknownFields = []
    }

    public static func == (lhs: MemberRecord, rhs: MemberRecord) -> Bool {
        lhs.jsonValue == rhs.jsonValue
    }

    public var isPrimary: Bool { role == "primary" || role == "master" }

    public var jsonValue: JSONValue {
        var o: [(key: String, value: JSONValue)] = []
        func add(_ key: String, _ value: JSONValue?) { if let value { o.append((key, value)) } }
        add("conn_url", connURL.map(JSONValue.string))
        add("api_url", apiURL.map(JSONValue.string))
        add("state", state.map(JSONValue.string))
        add("role", role.map(JSONValue.string))
        add("version", version.map(JSONValue.string))
        add("proxy_url", proxyURL.map(JSONValue.string))
        add("checkpoint_after_promote", checkpointAfterPromote.map(JSONValue.bool))
        add("tags", tags)
        add("pending_restart", pendingRestart ? .bool(true) : nil)
        add("pending_restart_reason", pendingRestartReason)
        add("xlog_location", xlogLocation.map(JSONValue.int))
        add("replay_lsn", replayLSN.map(JSONValue.int))
        add("receive_lsn", receiveLSN.map(JSONValue.int))
        add("replication_state", replicationState.map(JSONValue.string))
        add("timeline", timeline.map(JSONValue.int))
        add("scheduled_restart", scheduledRestart)
        add("pause", pause ? .bool(true) : nil)
        o.append(contentsOf: unknownFields)
        return .object(o)
    }

    static let knownKeys: Set<String> = [
        "conn_url", "api_url", "state", "role", "version", "proxy_url", "checkpoint_after_promote", "tags",
        "pending_restart", "pending_restart_reason", "xlog_location", "replay_lsn", "receive_lsn",
        "replication_state", "timeline", "scheduled_restart", "pause",
    ]

    /// Reads a member value; nil when it is not a JSON object.
    public init?(json: JSONValue) {
        guard let entries = json.objectValue else { return nil }
        self.init()
        connURL = json["conn_url"]?.stringValue
        apiURL = json["api_url"]?.stringValue
        state = json["state"]?.stringValue
        role = json["role"]?.stringValue
        version = json["version"]?.stringValue
        proxyURL = json["proxy_url"]?.stringValue
        checkpointAfterPromote = json["checkpoint_after_promote"]?.boolValue
        tags = json["tags"]
        pendingRestart = json["pending_restart"]?.boolValue ?? false
        pendingRestartReason = json["pending_restart_reason"]
        // Positions and the timeline are read only within what PostgreSQL can have.
        xlogLocation = json["xlog_location"]?.walPosition
        replayLSN = json["replay_lsn"]?.walPosition
        receiveLSN = json["receive_lsn"]?.walPosition
        replicationState = json["replication_state"]?.stringValue
        timeline = json["timeline"]?.timelineID
        scheduledRestart = json["scheduled_restart"]
        pause = json["pause"]?.boolValue ?? false
        unknownFields = entries.filter { !Self.knownKeys.contains($0.key) }
    }

    /// A tag's value as a flag (Patroni treats a present, truthy tag as set).
    public func tag(_ name: String) -> JSONValue? { tags?[name] }

    /// nofailover and failover_priority as every member reads them.
    public var failoverTags: FailoverTags { FailoverTags(tags) }
    public var nosync: Bool { tag("nosync")?.boolValue ?? false }
    /// Streams no WAL (it restores from an archive): no slot is kept for it.
    public var nostream: Bool { tag("nostream")?.boolValue ?? false }
    public var noloadbalance: Bool { tag("noloadbalance")?.boolValue ?? false }
    public var clonefrom: Bool { tag("clonefrom")?.boolValue ?? false }
}
