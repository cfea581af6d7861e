import Foundation

/// A scratch directory for one test server under /tmp (never under /root, which the
/// unprivileged server user cannot enter), removed when the server is stopped.
public struct TestDirectory: Sendable {
    public let path: String

    public static func make(_ label: String) throws -> TestDirectory {
        let path = NSTemporaryDirectory() + "vigil-test-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return TestDirectory(path: path)
    }

    public func sub(_ name: String) -> String { path + "/" + name }

    /// A subdirectory owned by `user`, with `mode` (PostgreSQL wants 0700 for its data).
    public func makeOwned(_ name: String, by user: ServiceUser, mode: Int = 0o700) throws -> String {
        let dir = sub(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: mode])
        try user.own(dir)
        return dir
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
