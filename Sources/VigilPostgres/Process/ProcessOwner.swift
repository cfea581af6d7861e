#if canImport(Glibc)
import Glibc
#endif

/// The OS user PostgreSQL's processes run as. nil everywhere means "as this process" (the
/// agent runs as the database's owner); a value is used when the caller is root, as tests
/// and the lab are, and must hand the work to an unprivileged user.
public struct ProcessOwner: Sendable, Equatable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }

    /// Looks a user up by name.
    public static func named(_ name: String) -> ProcessOwner? {
        guard let entry = getpwnam(name) else { return nil }
        return ProcessOwner(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// The user this process runs as.
    public static var current: ProcessOwner {
        let uid = geteuid()
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "\(uid)"
        return ProcessOwner(name: name, uid: uid, gid: getegid())
    }

    /// Gives `path` to this owner when that differs from who we are (i.e. we are root).
    public func own(_ path: String) throws(InstanceError) {
        guard uid != geteuid() else { return }
        guard chown(path, uid, gid) == 0 else {
            throw InstanceError(.permission, "cannot give \(path) to user \(name): \(String(cString: strerror(errno)))")
        }
    }
}
