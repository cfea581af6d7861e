import Synchronization

/// Cuts the HA loop's sleep short: a watch event, a REST request or the postmaster's exit
/// calls `signal()`; the loop's `wait(upTo:)` returns at once, or after the timeout. A signal
/// that arrives while the loop is busy is kept, so the next wait returns immediately.
public final class Wakeup: Sendable {
    public init() {}
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    public func wait(upTo timeout: Duration) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self?.signal() }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        timer.cancel()
        // A timer that fired as a real signal arrived leaves one stale `pending`: harmless (one extra cycle).
    }
}
