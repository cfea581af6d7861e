/// `tags:` — how this member takes part in elections, load balancing and replication.
public struct Tags: Sendable, Equatable {
    public var nofailover: Bool
    /// Higher wins equal-LSN leader races; 0 or less never races. Exclusive with nofailover.
    public var failoverPriority: Int?
    public var nosync: Bool
    public var syncPriority: Int?
    public var clonefrom: Bool
    public var noloadbalance: Bool
    public var replicatefrom: String?
    public var nostream: Bool
    /// Any other tag, published with the member as written.
    public var custom: [String: String]

    public static let none = Tags(nofailover: false, failoverPriority: nil, nosync: false, syncPriority: nil,
                                  clonefrom: false, noloadbalance: false, replicatefrom: nil, nostream: false,
                                  custom: [:])

    public init(nofailover: Bool, failoverPriority: Int?, nosync: Bool, syncPriority: Int?, clonefrom: Bool,
                noloadbalance: Bool, replicatefrom: String?, nostream: Bool, custom: [String: String]) {
        self.nofailover = nofailover
        self.failoverPriority = failoverPriority
        self.nosync = nosync
        self.syncPriority = syncPriority
        self.clonefrom = clonefrom
        self.noloadbalance = noloadbalance
        self.replicatefrom = replicatefrom
        self.nostream = nostream
        self.custom = custom
    }

    static let known: Set<String> = ["nofailover", "failover_priority", "nosync", "sync_priority", "clonefrom",
                                     "noloadbalance", "replicatefrom", "nostream"]

    init(_ s: ConfigSection) {
        nofailover = s.bool("nofailover") ?? false
        failoverPriority = s.int("failover_priority")
        nosync = s.bool("nosync") ?? false
        syncPriority = s.int("sync_priority")
        clonefrom = s.bool("clonefrom") ?? false
        noloadbalance = s.bool("noloadbalance") ?? false
        replicatefrom = s.string("replicatefrom")
        nostream = s.bool("nostream") ?? false
        var custom: [String: String] = [:]
        for entry in s.node?.entries ?? [] where !Self.known.contains(entry.key) {
            s.reader.noteAsked(entry.key, in: s.path)
            custom[entry.key] = entry.value.text ?? ""
        }
        self.custom = custom
    }
}
