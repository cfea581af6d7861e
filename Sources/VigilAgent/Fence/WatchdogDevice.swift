import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A watchdog device as the fence keeps it: opened on the first arm, its timeout set to what
/// the lease allows, written to after every renewal, stopped with the magic close (`V`) once
/// PostgreSQL no longer needs guarding. Should the fence itself die or freeze, nothing writes
/// to it any more and the host is reset when the timeout passes.
struct WatchdogDevice {
    enum Driver: String {
        /// A Linux watchdog device (`/dev/watchdog`: a hardware timer or `softdog`).
        case linux = "default"
        /// Patroni's test harness: any writable file or pipe, told `Ctimeout=N\n` for a timeout,
        /// `1` for a keepalive and `V` for the magic close, as a real device would be.
        case testing
    }

    let path: String
    let driver: Driver
    private let fd: Int32
    /// The timeout in force, in seconds, as the device reports it.
    private(set) var timeout: Int
    /// What the device says of itself (its identity), for the log.
    let identity: String

    static func open(_ path: String, driver: String) throws(WatchdogFailure) -> WatchdogDevice {
        guard let driver = Driver(rawValue: driver) else {
            throw WatchdogFailure("unknown watchdog driver '\(driver.prefix(40))' (default or testing)")
        }
        // A pipe without a reader must not block the fence: opening it fails instead.
        let flags = O_WRONLY | O_CLOEXEC | (driver == .testing ? O_NONBLOCK | O_APPEND : 0)
        let fd = Glibc.open(path, flags)
        guard fd >= 0 else { throw WatchdogFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        switch driver {
        case .testing:
            return WatchdogDevice(path: path, driver: driver, fd: fd, timeout: 60, identity: "watchdog test harness")
        case .linux:
            var info = LinuxWatchdog.Info()
            var current: Int32 = 0
            guard LinuxWatchdog.ioctl(fd, LinuxWatchdog.getSupport, &info) == 0,
                  LinuxWatchdog.ioctl(fd, LinuxWatchdog.getTimeout, &current) == 0 else {
                let reason = String(cString: strerror(errno))
                // Whatever it is, it is not a watchdog; the write makes a real one that ignored
                // the query stop again.
                _ = write(fd, "V", 1)
                Glibc.close(fd)
                throw WatchdogFailure("\(path) is not a usable watchdog device: \(reason)")
            }
            var device = WatchdogDevice(path: path, driver: driver, fd: fd, timeout: Int(current), identity: info.name)
            device.canSetTimeout = info.options & LinuxWatchdog.canSetTimeout != 0
            device.canStop = info.options & LinuxWatchdog.magicClose != 0
            return device
        }
    }

    private var canSetTimeout = true
    /// Whether the magic close stops it (WDIOF_MAGICCLOSE); one that cannot be stopped resets
    /// the host `timeout` after its last keepalive, whatever happens.
    private(set) var canStop = true

    private init(path: String, driver: Driver, fd: Int32, timeout: Int, identity: String) {
        self.path = path
        self.driver = driver
        self.fd = fd
        self.timeout = timeout
        self.identity = identity
    }

    /// Sets the timeout to `seconds`, or fails when the device keeps a longer one (it would
    /// reset the host only after the lease has ended: no protection at all).
    mutating func setTimeout(_ seconds: Int) throws(WatchdogFailure) {
        guard (1...65_535).contains(seconds) else {
            throw WatchdogFailure("a timeout of \(seconds) s is outside what a watchdog device takes (1 to 65535)")
        }
        switch driver {
        case .testing:
            try send("Ctimeout=\(seconds)\n")
            timeout = seconds
        case .linux:
            if canSetTimeout {
                var value = Int32(seconds)
                guard LinuxWatchdog.ioctl(fd, LinuxWatchdog.setTimeout, &value) == 0 else {
                    throw WatchdogFailure("cannot set the timeout of \(path) to \(seconds) s: \(String(cString: strerror(errno)))")
                }
            }
            var actual: Int32 = 0
            guard LinuxWatchdog.ioctl(fd, LinuxWatchdog.getTimeout, &actual) == 0 else {
                throw WatchdogFailure("cannot read the timeout of \(path): \(String(cString: strerror(errno)))")
            }
            timeout = Int(actual)
            guard timeout <= seconds else {
                throw WatchdogFailure("\(path) keeps a timeout of \(timeout) s, longer than the \(seconds) s the lease allows")
            }
        }
    }

    func keepalive() throws(WatchdogFailure) {
        try send("1")
    }

    /// The magic close: the device stops and the host is not reset. One that cannot be stopped
    /// gets a last keepalive, as Patroni does, for the time it leaves.
    func close() {
        if !canStop { try? keepalive() }
        _ = write(fd, "V", 1)
        Glibc.close(fd)
    }

    private func send(_ text: String) throws(WatchdogFailure) {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw WatchdogFailure("cannot write to \(path): \(written < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}

struct WatchdogFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// linux/watchdog.h: the requests a watchdog device answers (x86-64 and arm64 encoding).
enum LinuxWatchdog {
    struct Info {
        var options: UInt32 = 0
        var firmwareVersion: UInt32 = 0
        var identity: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        var name: String {
            withUnsafeBytes(of: identity) { raw in
                let bytes = raw.prefix { $0 != 0 }
                let text = String(decoding: bytes, as: UTF8.self)
                return text.isEmpty ? "watchdog device" : text
            }
        }
    }

    /// _IOC(direction, 'W', number, size)
    static func request(_ direction: UInt, _ number: UInt, size: Int) -> UInt {
        (direction << 30) | (UInt(size) << 16) | (UInt(UInt8(ascii: "W")) << 8) | number
    }
    static let read: UInt = 2
    static let readWrite: UInt = 3
    static let getSupport = request(read, 0, size: MemoryLayout<Info>.size)
    static let setTimeout = request(readWrite, 6, size: MemoryLayout<Int32>.size)
    static let getTimeout = request(read, 7, size: MemoryLayout<Int32>.size)
    /// WDIOF_SETTIMEOUT: the device takes a timeout.
    static let canSetTimeout: UInt32 = 0x0080
    /// WDIOF_MAGICCLOSE: writing `V` before closing stops it.
    static let magicClose: UInt32 = 0x0100

    static func ioctl<T>(_ fd: Int32, _ request: UInt, _ value: inout T) -> Int32 {
        withUnsafeMutablePointer(to: &value) { Glibc.ioctl(fd, request, $0) }
    }
}
