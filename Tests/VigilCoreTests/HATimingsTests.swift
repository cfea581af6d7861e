import Testing
import VigilCore

@Suite struct HATimingsTests {
    @Test func defaultsSatisfyTheRuleUnchanged() {
        let (t, adjustments) = HATimings.defaults.effective()
        #expect(t == HATimings(ttl: 30, loopWait: 10, retryTimeout: 10))
        #expect(adjustments.isEmpty)
    }

    /// The guide's values: ttl 30, loop_wait 10, retry_timeout 30. Lowering loop_wait alone
    /// cannot help (30 - 60 < 1), so Patroni uses loop_wait 1 and retry_timeout (30-1)/2 = 14.
    @Test func guideTimingsBecomeLoopWaitOneRetryFourteen() {
        let requested = HATimings(ttl: 30, loopWait: 10, retryTimeout: 30)
        let (t, adjustments) = requested.effective()
        #expect(t == HATimings(ttl: 30, loopWait: 1, retryTimeout: 14))
        #expect(t.satisfiesRule)
        #expect(adjustments == [.ruleEnforced(requested: requested, effective: t)])
    }

    @Test func onlyLoopWaitIsLoweredWhenThatIsEnough() {
        let (t, _) = HATimings(ttl: 30, loopWait: 15, retryTimeout: 10).effective()
        #expect(t == HATimings(ttl: 30, loopWait: 10, retryTimeout: 10))
    }

    @Test func shortLeaseIsAcceptedButFlaggedAgainstPatronisFloor() {
        let (t, adjustments) = HATimings(ttl: 10, loopWait: 2, retryTimeout: 4).effective()
        #expect(t == HATimings(ttl: 10, loopWait: 2, retryTimeout: 4))
        #expect(adjustments == [.belowPatroniFloor(key: "ttl", value: 10, patroniFloor: 20)])
        // What the agent logs when the store's config key sets it.
        #expect(adjustments.map(\.description) == [
            "ttl 10 is below Patroni's minimum of 20: used as written (faster failover, less tolerance for a slow store)",
        ])
    }

    @Test func valuesBelowVigilsFloorsAreRaised() {
        let (t, adjustments) = HATimings(ttl: 1, loopWait: 0, retryTimeout: 1).effective()
        #expect(t == HATimings(ttl: HATimings.minimumTTL, loopWait: 1, retryTimeout: 2))
        #expect(t.satisfiesRule)
        #expect(adjustments.contains(.raisedToFloor(key: "ttl", from: 1, to: HATimings.minimumTTL)))
        #expect(adjustments.contains(.raisedToFloor(key: "loop_wait", from: 0, to: 1)))
    }

    /// Property: whatever comes in, what goes out holds the rule and respects the floors.
    @Test(arguments: 0..<40)
    func effectiveTimingsAlwaysHoldTheRule(ttl: Int) {
        for loopWait in 0..<25 {
            for retry in 0..<25 {
                let (t, _) = HATimings(ttl: ttl, loopWait: loopWait, retryTimeout: retry).effective()
                #expect(t.satisfiesRule, "\(ttl)/\(loopWait)/\(retry) -> \(t)")
                #expect(t.loopWait >= 1 && t.retryTimeout >= 2 && t.ttl >= HATimings.minimumTTL)
            }
        }
    }
}
