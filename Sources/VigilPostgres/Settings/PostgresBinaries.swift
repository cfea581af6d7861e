import Foundation

/// Where PostgreSQL's programs are: `postgresql.bin_dir` (with `bin_name` renames), else PATH.
public struct PostgresBinaries: Sendable, Equatable {
    public var postgres: String
    public var initdb: String
    public var pgBasebackup: String
    public var pgRewind: String
    public var pgControldata: String

    /// Finds every program Vigil runs, or says which one is missing and where it looked.
    public static func locate(binDir: String?, names: [String: String] = [:],
                              path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        throws(InstanceError) -> PostgresBinaries {
        func find(_ program: String) throws(InstanceError) -> String {
            let name = names[program] ?? program
            if name.hasPrefix("/") {
                guard FileManager.default.isExecutableFile(atPath: name) else {
                    throw InstanceError(.binaries, "postgresql.bin_name.\(program): \(name) is not an executable file")
                }
                return name
            }
            if let binDir {
                let candidate = (binDir as NSString).appendingPathComponent(name)
                guard FileManager.default.isExecutableFile(atPath: candidate) else {
                    var isDirectory: ObjCBool = false
                    let exists = FileManager.default.fileExists(atPath: binDir, isDirectory: &isDirectory)
                    let why = !exists ? "does not exist" : !isDirectory.boolValue ? "is not a directory" : "does not contain \(name)"
                    throw InstanceError(.binaries, "postgresql.bin_dir \(binDir) \(why); set it to the directory holding PostgreSQL 18's programs (postgres, initdb, pg_basebackup, pg_rewind, pg_controldata)")
                }
                return candidate
            }
            for dir in path.split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw InstanceError(.binaries, "\(name) not found on PATH; set postgresql.bin_dir to PostgreSQL 18's bin directory")
        }
        return PostgresBinaries(postgres: try find("postgres"), initdb: try find("initdb"),
                                pgBasebackup: try find("pg_basebackup"), pgRewind: try find("pg_rewind"),
                                pgControldata: try find("pg_controldata"))
    }
}
