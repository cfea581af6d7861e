import Foundation
import Testing
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// How the agent starts and stops as a service: under systemd (`Type=notify`), and after an
/// agent died on its own.
@Suite(.serialized) struct LifecycleTests {
    /// kill -9 of the agent alone leaves its primary running under the fence; the next agent
    /// (started well inside the lease of 20 s) takes both over without restarting PostgreSQL,
    /// which is how the agent is upgraded. With the fence killed too, nothing guards a primary
    /// left running, and the next agent stops it and starts it again as its own child.
    @Test func anAgentKilledAloneKeepsItsPostgreSQLRunningUnderTheFence() async throws {
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1", timings: (20, 1, 2))
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            try await node.withSQL { try await $0.run("CREATE TABLE kept AS SELECT 1 AS i") }
            let postmaster = try #require(node.postgresProcesses().first)
            await node.killAgentOnly()
            #expect(node.postgresRunning)
            try await node.start()
            try await cluster.require("node1 leads again", within: .seconds(30)) { await node.isPrimary() }
            #expect(node.postgresProcesses().first == postmaster, "the same postmaster, never restarted")
            #expect(node.fullLog().contains("kept PostgreSQL (pid \(postmaster)) that a previous agent left running (a primary its fence guards)"))
            #expect(node.fullLog().contains("the fence of a previous agent is armed; this agent takes it over"))
            #expect(try await cluster.get("leader") == "node1")
            #expect(try await node.withSQL { try await $0.count("kept") } == 1)

            await node.killAgentOnly()
            let fences = Self.fences(of: node)
            #expect(fences.count == 1, "one fence for the data directory: \(fences)")
            for pid in fences { kill(pid, SIGKILL) }
            try await node.start()
            try await cluster.require("node1 leads a third time", within: .seconds(60)) { await node.isPrimary() }
            #expect(node.fullLog().contains("stopped PostgreSQL (pid \(postmaster)) left running by a previous agent (a primary no fence guards)"))
            #expect(node.postgresProcesses().first != postmaster)
        }
    }

    /// An upgrade as with Patroni: pause, restart the agent (SIGTERM in pause leaves
    /// PostgreSQL running and the key held), resume. The new agent keeps the same postmaster.
    @Test func anAgentRestartedInPauseKeepsPostgreSQLRunning() async throws {
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1")
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            let postmaster = try #require(node.postgresProcesses().first)
            #expect(await node.request("PATCH", "/config", body: #"{"pause":true}"#).status == 200)
            try await cluster.require("the pause is in force", within: .seconds(10)) {
                await node.get("/patroni").json?["pause"] as? Bool == true
            }
            let code = await node.terminate()
            #expect(code == 0, "exit status \(String(describing: code)):\n\(node.logTail(lines: 120))")
            #expect(node.postgresProcesses().first == postmaster, "left running in pause")
            try await node.start()
            try await cluster.require("node1 answers as the leader again", within: .seconds(30)) { await node.isPrimary() }
            #expect(node.fullLog().contains("kept PostgreSQL (pid \(postmaster)) that a previous agent left running (the cluster is paused)"))
            #expect(await node.request("PATCH", "/config", body: #"{"pause":null}"#).status == 200)
            try await cluster.require("resumed", within: .seconds(10)) { await node.get("/patroni").json?["pause"] == nil }
            #expect(await node.isPrimary())
            #expect(node.postgresProcesses().first == postmaster, "never restarted")
        }
    }

    /// The fence processes guarding `node`'s data directory.
    static func fences(of node: TestAgent) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            let arguments = ProcessTable.arguments(of: pid)
            return arguments.contains("--fence") && arguments.contains(node.dataDirectory)
        }
    }

    /// SIGHUP (systemctl reload): the file is read again; a tag, a PostgreSQL parameter and a
    /// callback added there are in force without a restart, and a name change is refused.
    @Test func sighupAppliesTheEditedFile() async throws {
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1")
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            let records = try FailoverTests.callbackRecorder()
            try node.editConfig { text in
                text.replacingOccurrences(of: "tags: {}", with: "tags:\n  noloadbalance: true")
                    .replacingOccurrences(of: "  parameters:\n    unix_socket_directories:",
                                          with: "  callbacks: {on_reload: '\(records.script) \(records.directory)/node1.log'}\n"
                                              + "  parameters:\n    work_mem: 12MB\n    unix_socket_directories:")
            }
            node.current?.signal(SIGHUP)
            try await cluster.require("the callback added to the file runs on this reload", within: .seconds(10)) {
                records.lines("node1").contains("on_reload primary \(cluster.scope)")
            }
            try await cluster.require("the tag is published", within: .seconds(10)) {
                let tags = await node.get("/patroni").json?["tags"] as? [String: Any]
                return tags?["noloadbalance"] as? Bool == true
            }
            try await cluster.require("work_mem from the file is in force", within: .seconds(10)) {
                (try? await node.withSQL { try await $0.int("SELECT setting::int FROM pg_settings WHERE name = 'work_mem'") })
                    == 12 * 1024
            }

            try node.editConfig { $0.replacingOccurrences(of: "name: node1", with: "name: renamed") }
            node.current?.signal(SIGHUP)
            try await cluster.require("a name change is refused", within: .seconds(10)) {
                node.fullLog().contains("reload refused: name, scope or namespace changed")
            }
            #expect(await node.isPrimary())
        }
    }

    /// With NOTIFY_SOCKET set, systemd hears READY=1 once the agent serves, STATUS= lines with
    /// the HA loop's summary, and STOPPING=1 on SIGTERM.
    @Test func systemdHearsReadyStatusAndStopping() async throws {
        let directory = try TestDirectory.make("notify")
        defer { directory.remove() }
        chmod(directory.path, 0o777)
        let listener = try DatagramListener(path: directory.sub("notify.sock"))
        defer { listener.close() }
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1")
            try await node.start(environment: ["NOTIFY_SOCKET": listener.path])
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            var messages: [String] = []
            try await cluster.require("systemd hears READY=1 and a status", within: .seconds(10)) {
                messages += listener.drain()
                return messages.contains { $0.hasPrefix("READY=1") }
                    && messages.contains { $0 == "STATUS=no action. I am (node1), the leader with the lock" }
            }
            #expect(messages.contains { $0 == "STATUS=trying to bootstrap a new cluster" })
            #expect(await node.terminate() == 0)
            messages += listener.drain()
            #expect(messages.contains("STOPPING=1"))
        }
    }
}

/// A unix datagram socket standing in for systemd's notify socket.
final class DatagramListener: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw AgentTestError("socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw AgentTestError("bind(\(path)) failed: errno \(errno)") }
        chmod(path, 0o777)
    }

    /// Every datagram waiting now.
    func drain() -> [String] {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { break }
            messages += String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return messages
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}
