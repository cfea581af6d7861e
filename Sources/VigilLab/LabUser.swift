import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The unprivileged account the lab runs PostgreSQL and the agents as when started by root
/// (PostgreSQL refuses root; `make lab` creates the `vigil` user).
struct LabUser: Sendable {
    var name: String
    var uid: uid_t
    var gid: gid_t

    /// nil when not root: everything then runs as the current user.
    static func forLab(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LabUser? {
        guard geteuid() == 0 else { return nil }
        let name = environment["VIGIL_PG_USER"] ?? "vigil"
        guard let entry = getpwnam(name) else {
            throw LabError("running as root, the lab needs the unprivileged user \(name) to run PostgreSQL; `make lab` creates it (scripts/install-deps.sh)")
        }
        return LabUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    func own(_ path: String) throws {
        guard chown(path, uid, gid) == 0 else {
            throw LabError("cannot give \(path) to \(name): \(String(cString: strerror(errno)))")
        }
    }

    /// The command line prefix that runs a program as this user (it execs: the PID is the program's).
    var prefix: [String] { ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] }
}
