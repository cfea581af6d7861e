import Synchronization

/// The call did not finish within its deadline.
public struct DeadlinePassed: Error, Sendable, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// Runs async work against a deadline that is kept even when the work ignores cancellation.
/// PostgresNIO does not give up a query, nor AsyncHTTPClient a stalled body, when their task
/// is cancelled, and a task group waits for every child: so the caller is answered at the
/// deadline, the work is cancelled and left to end on its own, and `onTimeout` (run before the
/// caller is answered; it must not wait long) may close what the work is stuck on, a
/// connection, so that it does end.
public enum Deadline {
    public static func run<T: Sendable>(within limit: Duration, onTimeout: @escaping @Sendable () async -> Void = {},
                                        _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let answered = Mutex(false)
        // True for the first of the work and the timer to finish, which answers the caller.
        let first: @Sendable () -> Bool = { answered.withLock { done in defer { done = true }; return !done } }
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        defer {
            work?.cancel()
            timer?.cancel()
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            work = Task {
                do {
                    let value = try await body()
                    if first() { continuation.resume(returning: value) }
                } catch {
                    if first() { continuation.resume(throwing: error) }
                }
            }
            timer = Task {
                try? await Task.sleep(for: limit)
                guard first() else { return }
                // Before the caller is answered, so it never meets what is being abandoned.
                await onTimeout()
                continuation.resume(throwing: DeadlinePassed(limit: limit))
            }
        }
    }
}
