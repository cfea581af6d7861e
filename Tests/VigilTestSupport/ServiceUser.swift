import Foundation
import VigilSystem
#if canImport(Glibc)
import Glibc
#endif

/// The OS user test servers run as. PostgreSQL refuses to run as root, so under root (as
/// in CI) servers run as the unprivileged user that `make test` creates (`vigil`, or
/// `$VIGIL_PG_USER`); otherwise as the current user.
public struct ServiceUser: Sendable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t
    /// True when the processes must switch to this user (we are root).
    public var switches: Bool

    public static func current() throws -> ServiceUser {
        do {
            guard let owner = try ProcessOwner.unprivileged() else {
                let name = ProcessInfo.processInfo.environment["USER"] ?? "\(geteuid())"
                return ServiceUser(name: name, uid: geteuid(), gid: getegid(), switches: false)
            }
            return ServiceUser(name: owner.name, uid: owner.uid, gid: owner.gid, switches: true)
        } catch {
            throw HarnessError(error.description)
        }
    }

    /// The owner to hand to `ChildProcess.spawn`: nil when processes need not switch user.
    public var owner: ProcessOwner? { switches ? ProcessOwner(name: name, uid: uid, gid: gid) : nil }

    /// Makes `path` belong to this user (a no-op when we are not root).
    public func own(_ path: String) throws {
        try owner?.own(path)
    }
}
