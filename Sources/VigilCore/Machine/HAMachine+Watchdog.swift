/// The watchdog section's rules (Patroni's watchdog.is_healthy and enforce_primary_role): the
/// machine remembers a failure to start the device, judges from it and from the shell's look
/// at the device whether this member may lead, and refuses a promotion (or demotes) when a
/// required watchdog could not be started.
extension HAMachine {
    /// Whether this member's watchdog keeps it from leading: the mode is required and the device
    /// cannot be used (the shell found it missing, unwritable or of an unknown driver), its
    /// timeout leaves no time for a cycle, or it failed to start since the section last changed.
    func watchdogUnusable(deviceUsable: Bool) -> Bool {
        guard settings.watchdog.mode == .required else { return false }
        return settings.watchdog.deviceTimeout(settings.timings) == nil || !deviceUsable || watchdogFailure != nil
    }

    /// The `watchdog` section changed (a reload): a device that failed may be tried again.
    public mutating func watchdogSectionChanged() {
        watchdogFailure = nil
    }

    /// Takes in how an arm's watchdog went: a failure is kept (the fence does not retry it
    /// either) until a device runs or the section changes.
    mutating func noteWatchdog(_ order: FenceOrder, _ result: ActionResult) {
        guard case let .arm(_, timeout) = order else { return }
        if case let .watchdogFailed(why) = result {
            watchdogFailure = why
        } else if result.succeeded, timeout != nil {
            watchdogFailure = nil
        }
    }

    /// A required watchdog that could not be started (or cannot be used under these timings):
    /// a primary steps down at once, a member about to lead gives the key back (Patroni's
    /// enforce_primary_role). Nil when the watchdog is not required or runs.
    mutating func refusalWithoutWatchdog(_ order: FenceOrder, _ result: ActionResult, at now: Duration) -> Next? {
        guard settings.watchdog.mode == .required, case let .arm(_, watchdog) = order else { return nil }
        let why: String
        switch (watchdog, result) {
        case (nil, _): why = "its timeout of \(settings.watchdog.timeout(ttl: settings.timings.ttl)) s leaves no time for a cycle of loop_wait"
        case let (_, .watchdogFailed(reason)): why = reason
        default: return nil
        }
        cycle!.plan = []
        // A server started in this cycle (a bootstrap, a restart as primary) may be a primary
        // the last look did not see yet: stopped too.
        if observation?.postgres.isRunningPrimary == true || cycle!.promoted || cycle!.changedPostgres {
            startDemotion(.immediate)
            return Next(advance(at: now).step,
                        decided: Decision(.watchdogFailed, "Demoting self because watchdog could not be activated: \(why)",
                                          [.demote(.immediate)]))
        }
        cycle!.queue = [.optional(.releaseLeader)]
        return Next(advance(at: now).step,
                    decided: Decision(.watchdogFailed, "Not promoting self because watchdog could not be activated: \(why)"))
    }
}
