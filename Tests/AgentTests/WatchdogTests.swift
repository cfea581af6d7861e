import Foundation
import Testing
import VigilSystem
import VigilTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The watchdog section: the fence keeps a device alive with every renewal of the lease and
/// stops it with the magic close when nothing is left to guard. No watchdog device exists
/// here, so the device is Patroni's stand-in (`driver: testing`): a file the fence writes
/// `Ctimeout=N`, `1` (keepalive) and `V` (stop) to, exactly the protocol of /dev/watchdog.
@Suite(.serialized) struct WatchdogTests {
    /// The fence alone (no agent, no PostgreSQL), spoken to over its socket as the agent does.
    @Test func theFenceFeedsTheDeviceAndActsBeforeItWouldFire() async throws {
        let user = try ServiceUser.current()
        let directory = try TestDirectory.make("fence-watchdog")
        defer { directory.remove() }
        let data = try directory.makeOwned("data", by: user)
        let device = try directory.makeOwned("dev", by: user) + "/watchdog"
        try Self.createDevice(device, for: user)
        let fence = try await ChildProcess.spawn(try TestAgent.agentBinary(), ["--fence", data], owner: user.owner,
                                                 logPath: directory.sub("fence.log"))
        // Whatever fails below, no fence outlives the test.
        defer { kill(fence.pid, SIGKILL) }
        let socket = try await FenceSocket.connect(dataDirectory: data)
        let far = FenceSocket.monotonicNow() + 60_000_000_000
        let request = "arm \(far) watchdog 5 testing \(device)"
        #expect(try socket.ask(request) == "armed \(far); watchdog 5")
        #expect(try socket.ask(request) == "armed \(far); watchdog 5")
        #expect(try String(contentsOfFile: device, encoding: .utf8) == "Ctimeout=5\n11", "timeout once, then a keepalive per arm")
        // The agent's deadline is a minute away, the device's 5 s: the fence acts a second before
        // the device would fire (nothing runs in this data directory) and stops the device.
        let stopped = await eventually(.seconds(15)) { (try? String(contentsOfFile: device, encoding: .utf8)) == "Ctimeout=5\n11V" }
        #expect(stopped, "\((try? String(contentsOfFile: device, encoding: .utf8)) ?? "")")
        #expect(try socket.ask("status") == "disarmed")
        let log = (try? String(contentsOfFile: directory.sub("fence.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("runs with a 5 s timeout"), "\(log)")
        #expect(log.contains("deadline passed without a renewal; PostgreSQL in \(data) is not running"), "\(log)")
        #expect(log.contains("watchdog \(device) stopped"), "\(log)")
        // Something that is not a watchdog device is refused with the reason; the fence is armed all the same.
        let refused = try socket.ask("arm \(far) watchdog 5 default /dev/null")
        #expect(refused.hasPrefix("armed \(far); nowatchdog /dev/null is not a usable watchdog device"), "\(refused)")
        // A deadline no agent would send is refused, not computed with (Int64's edge would trap).
        #expect(try socket.ask("arm 9223372036854775807").hasPrefix("error: arm needs a deadline"))
        #expect(try socket.ask("arm -9223372036854775808").hasPrefix("error: arm needs a deadline"))
        #expect(try socket.ask("disarm") == "disarmed")
        socket.close()
        #expect(await fence.waitForExit(timeout: .seconds(10)) != nil, "a fence with nothing to guard and no agent ends")
    }

    /// A primary with `mode: required` keeps the device alive from its first renewal on; a clean
    /// shutdown stops it (no reset of the host).
    @Test func aRequiredWatchdogRunsWhileTheNodeLeads() async throws {
        try await AgentCluster.with { cluster in
            let user = try ServiceUser.current()
            let devices = try TestDirectory.make("watchdog-device")
            defer { devices.remove() }
            let device = try devices.makeOwned("dev", by: user) + "/watchdog"
            try Self.createDevice(device, for: user)
            // ttl 12, safety_margin 3: the device's timeout is 9 s, the fence acts 8 s after a renewal.
            let node = try cluster.add("node1", timings: (12, 1, 3),
                                       extraConfig: "watchdog: {mode: required, driver: testing, device: \(device), safety_margin: 3}")
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            let (_, status) = await node.get("/patroni")
            let fence = status?["fence"] as? [String: Any]
            let watchdog = fence?["watchdog"] as? [String: Any]
            #expect(watchdog?["state"] as? String == "running" && watchdog?["timeout"] as? Int == 9, "\(status ?? [:])")
            #expect(status?["watchdog_failed"] == nil)
            #expect(node.fullLog().contains("watchdog \(device) activated with a 9 s timeout"))
            _ = await node.terminate()
            let written = try String(contentsOfFile: device, encoding: .utf8)
            #expect(written.hasPrefix("Ctimeout=9\n1"), "\(written)")
            #expect(written.hasSuffix("V"), "the shutdown stops the device: \(written)")
            #expect(written.dropFirst("Ctimeout=9\n".count).dropLast().allSatisfy { $0 == "1" }, "\(written)")
        }
    }

    /// `mode: required` without a device: the node does not lead (no bootstrap, no promotion),
    /// says why, and tells its peers (watchdog_failed). Once the device is there, it leads.
    @Test func aRequiredWatchdogWithoutADeviceKeepsTheNodeFromLeading() async throws {
        try await AgentCluster.with { cluster in
            let user = try ServiceUser.current()
            let devices = try TestDirectory.make("watchdog-device")
            defer { devices.remove() }
            let device = try devices.makeOwned("dev", by: user) + "/watchdog"
            let node = try cluster.add("node1", timings: (10, 1, 3),
                                       extraConfig: "watchdog: {mode: required, driver: testing, device: \(device), safety_margin: 3}")
            try await node.start()
            try await cluster.require("node1 reports its watchdog failed", within: .seconds(30)) {
                await node.get("/patroni").json?["watchdog_failed"] as? Bool == true
            }
            try await Task.sleep(for: .seconds(5))
            #expect(!(await node.isPrimary()))
            #expect(try await cluster.get("initialize") == nil, "it did not bootstrap")
            #expect(node.fullLog().contains("watchdog.mode is required but the watchdog cannot be used"))
            try Self.createDevice(device, for: user)
            try await cluster.require("node1 leads once the device is there", within: .seconds(90)) { await node.isPrimary() }
            #expect(await node.get("/patroni").json?["watchdog_failed"] == nil)
        }
    }
}

extension WatchdogTests {
    /// The stand-in device: an empty file the service user (the fence's) may write.
    static func createDevice(_ path: String, for user: ServiceUser) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw AgentTestError("cannot create the stand-in watchdog device \(path)")
        }
        try user.own(path)
    }
}

/// The fence's socket, spoken to line by line as the agent does (FenceWire).
struct FenceSocket {
    let fd: Int32

    static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Connects to the fence of `dataDirectory` (abstract socket `vigil-fence:<dir>`), waiting
    /// up to 5 s for it to listen.
    static func connect(dataDirectory: String) async throws -> FenceSocket {
        let name = [UInt8(0)] + Array("vigil-fence:\(dataDirectory)".utf8)
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in name.enumerated() where i < raw.count { raw[i] = byte }
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            }
            if connected == 0 {
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                return FenceSocket(fd: fd)
            }
            Glibc.close(fd)
            guard ContinuousClock.now < deadline else { throw AgentTestError("no fence listens for \(dataDirectory)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// One request line, its one answer line.
    func ask(_ line: String) throws -> String {
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw AgentTestError("cannot send to the fence")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !answer.contains(UInt8(ascii: "\n")) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw AgentTestError("the fence did not answer '\(line)'") }
            answer += buffer[..<count]
        }
        return String(decoding: answer.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    func close() { Glibc.close(fd) }
}
