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
            let squatter = try PortListener(host: node.host, port: node.port)
            defer { squatter.close() }
            let error = await #expect(throws: InstanceError.self) { try await node.instance.start() }
            #expect(error?.kind == .address)
            #expect(error?.message.contains("port \(node.port) on \(node.host) is already in use") == true)
            #expect(await node.instance.currentState == .stopped)
        }
    }
}
