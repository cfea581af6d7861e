import VigilCore

/// `ttl`, `loop_wait`, `retry_timeout`: the effective values, and why they differ from the file.
enum TimingRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let dcs = input.configuration.bootstrap.dcs
        let requested = dcs.timings
        let (_, adjustments) = requested.effective()
        let base = ["bootstrap", "dcs"]
        return adjustments.map { adjustment in
            switch adjustment {
            case let .ruleEnforced(requested, effective):
                var fix = "choose values that hold the rule"
                let retry = (requested.ttl - requested.loopWait) / 2
                if retry >= HATimings.patroniMinimumRetryTimeout {
                    fix += ", e.g. ttl: \(requested.ttl), loop_wait: \(requested.loopWait), retry_timeout: \(retry)"
                }
                return Diagnostic(
                    .warning, code: "timing-rule", path: "bootstrap.dcs.ttl",
                    location: input.keyLocation(base + ["ttl"]) ?? input.keyLocation(base + ["retry_timeout"]) ?? dcs.location,
                    message: "loop_wait + 2 × retry_timeout must not exceed ttl, but \(requested.loopWait) + 2 × \(requested.retryTimeout) = \(requested.loopWait + 2 * requested.retryTimeout) > \(requested.ttl): one slow cycle could outlive the leader lease. Vigil, like Patroni, will run with \(effective) and only log it.",
                    fix: fix + ".")
            case let .belowPatroniFloor(key, value, floor):
                return Diagnostic(
                    .warning, code: "below-patroni-floor", path: "bootstrap.dcs.\(key)",
                    location: input.keyLocation(base + [key]),
                    message: "\(key) \(value) is below Patroni's minimum of \(floor). Vigil uses \(value) as written (faster failover, less tolerance for a slow store); Patroni would use \(floor).",
                    fix: "keep it only if every agent in the cluster is Vigil and etcd answers well within retry_timeout.")
            case let .raisedToFloor(key, from, to):
                return Diagnostic(
                    .warning, code: "below-minimum", path: "bootstrap.dcs.\(key)",
                    location: input.keyLocation(base + [key]),
                    message: "\(key) \(from) is below the minimum; \(to) will be used.",
                    fix: "set \(key): \(to) or more.")
            }
        }
    }
}
