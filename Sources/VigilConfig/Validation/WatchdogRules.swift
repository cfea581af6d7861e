import VigilCore

/// `watchdog`: a mode Patroni knows, a device the timings can use, and (in required mode) a
/// device that is there, since without one this node never becomes primary.
enum WatchdogRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let watchdog = input.configuration.watchdog
        var findings: [Diagnostic] = []
        func warn(_ key: String?, _ code: String, _ message: String, fix: String) {
            let path = ["watchdog"] + (key.map { [$0] } ?? [])
            findings.append(Diagnostic(.warning, code: code, path: path.joined(separator: "."),
                                       location: input.keyLocation(path) ?? input.location(ofParent: path),
                                       message: message, fix: fix))
        }
        if !watchdog.modeRecognized {
            warn("mode", "watchdog-mode", "watchdog mode '\(watchdog.modeText)' is not one Vigil or Patroni knows: the watchdog is off.",
                 fix: "write off, automatic or required.")
        }
        // Only a section that is written is judged (mode automatic is also the default).
        guard watchdog.mode != .off, input.configuration.tree.entry("watchdog") != nil else { return findings }
        if !watchdog.driverKnown {
            warn("driver", "watchdog-driver", "watchdog driver '\(watchdog.driver)' is unknown: no watchdog can be started.",
                 fix: "remove driver (a Linux watchdog device is the default).")
        }
        let timings = input.configuration.bootstrap.dcs.timings.effective().timings
        let timeout = watchdog.policy.timeout(ttl: timings.ttl)
        if watchdog.policy.deviceTimeout(timings) == nil {
            let consequence = watchdog.mode == .required ? "this node will never become primary" : "no watchdog is used"
            warn("safety_margin", "watchdog-timing",
                 "the watchdog's timeout, ttl \(timings.ttl) less safety_margin \(watchdog.safetyMargin) = \(timeout) s, must exceed loop_wait \(timings.loopWait) s by \(WatchdogPolicy.fenceLead + 1) s (the fence acts \(WatchdogPolicy.fenceLead) s before the device would fire): \(consequence).",
                 fix: "lower safety_margin or raise ttl.")
        }
        if watchdog.mode == .required, !input.watchdogDeviceWritable {
            warn("device", "watchdog-device",
                 "watchdog.mode is required but \(watchdog.device) is not there or not writable by this user: this node will not become primary.",
                 fix: "load a watchdog driver (modprobe softdog) and give the agent's user write access to \(watchdog.device), or set mode: automatic.")
        }
        return findings
    }
}
