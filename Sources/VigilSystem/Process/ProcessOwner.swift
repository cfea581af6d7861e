import Foundation
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

    /// Who PostgreSQL runs as when the lab or the tests start it: nil when this process is not
    /// root (everything runs as the current user), else the unprivileged account named by
    /// `VIGIL_PG_USER` (default `vigil`, which `make lab` and `make test` create).
    public static func unprivileged(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SystemError) -> ProcessOwner? {
        guard geteuid() == 0 else { return nil }
        let name = environment["VIGIL_PG_USER"] ?? "vigil"
        guard let owner = named(name) else {
            throw SystemError.account("running as root, PostgreSQL must run as the unprivileged user \(name), which does not exist; `make lab` and `make test` create it (scripts/install-deps.sh), or set VIGIL_PG_USER")
        }
        return owner
    }

    /// Whether running as this owner means switching user (we are someone else, i.e. root).
    public var switchesUser: Bool { uid != geteuid() }

    /// The command line prefix that runs a program as this user. setpriv switches and then
    /// execs, so the PID is the program's own.
    public var commandPrefix: [String] {
        [Self.setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"]
    }

    static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/bin/setpriv"

    /// Gives `path` to this owner when that differs from who we are (i.e. we are root).
    public func own(_ path: String) throws(SystemError) {
        guard switchesUser else { return }
        guard chown(path, uid, gid) == 0 else {
            throw SystemError.permission("cannot give \(path) to user \(name): \(String(cString: strerror(errno)))")
        }
    }
}
