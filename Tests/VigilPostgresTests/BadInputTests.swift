import Foundation
import Testing
import VigilConfig
import VigilCore
import VigilPostgres
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Mistakes an operator makes get one clear error and leave nothing half-done.
@Suite struct BadInputTests {
    @Test func aWrongReplicationPasswordLeavesNoHalfCopy() async throws {
        let primary = try TestNode.make("p")
        let replica = try TestNode.make("r", replicationPassword: "not-the-password")
        do {
            _ = try await primary.instance.bootstrap()
            let error = await #expect(throws: InstanceError.self) { try await replica.instance.createReplica(from: primary.address) }
            #expect(error?.kind == .authentication)
            #expect(error?.message.contains("postgresql.authentication.replication") == true)
            #expect(error.map { !$0.message.contains("not-the-password") } == true)
            #expect(!FileManager.default.fileExists(atPath: replica.settings.dataDirectory + ".vigil-new"))
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: replica.settings.dataDirectory)) ?? []).isEmpty)
        } catch {
            Issue.record(error)
        }
        await primary.cleanUp()
        await replica.cleanUp()
    }

    @Test func aMissingBinDirIsNamed() throws {
        let error = #expect(throws: InstanceError.self) { _ = try TestNode.make("x", binDir: "/nonexistent/pg18/bin") }
        #expect(error?.kind == .binaries)
        #expect(error?.message.contains("postgresql.bin_dir /nonexistent/pg18/bin does not exist") == true)
    }

    @Test func aDataDirectoryWithWrongPermissionsOrOwnerIsRefused() async throws {
        try await TestNode.with(["n1"]) { nodes in
            let node = nodes[0]
            _ = try await node.instance.bootstrap()
            try await node.instance.stop()
            let data = node.settings.dataDirectory

            chmod(data, 0o755)
            let loose = await #expect(throws: InstanceError.self) { try await node.instance.start() }
            #expect(loose?.kind == .dataDirectory && loose?.message.contains("mode 755") == true)
            chmod(data, 0o700)

            if geteuid() == 0, let owner = node.owner {
                chown(data, 0, 0)
                let foreign = await #expect(throws: InstanceError.self) { try await node.instance.start() }
                #expect(foreign?.kind == .dataDirectory)
                #expect(foreign?.message.contains("belongs to root, but PostgreSQL runs as \(owner.name)") == true)
                chown(data, owner.uid, owner.gid)
            }
            try await node.instance.start()
            #expect(await node.instance.currentState == .running)
        }
    }

    @Test func aTakenPortIsNamed() async throws {
        try await TestNode.with(["n1"]) { nodes in
            let node = nodes[0]
            _ = try await node.instance.bootstrap()
            try await node.instance.stop()
            let squatter = try Listener(host: node.host, port: node.port)
            defer { squatter.close() }
            let error = await #expect(throws: InstanceError.self) { try await node.instance.start() }
            #expect(error?.kind == .address)
            #expect(error?.message.contains("port \(node.port) on \(node.host) is already in use") == true)
            #expect(await node.instance.currentState == .stopped)
        }
    }
}

/// A TCP listener that occupies a port.
struct Listener {
    let fd: Int32

    init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw HarnessError("cannot listen on \(host):\(port)") }
    }

    func close() { _ = Glibc.close(fd) }
}
