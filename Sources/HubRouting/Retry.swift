/// Retrying a delivery that must not be lost: the same attempt again after `base`, doubling up to `cap`,
/// until it succeeds or the task is cancelled. Routing endpoints and stream job outputs share it.
public enum Retry {
    /// The outcome, with whether any attempt failed first (to log the recovery once).
    public enum Outcome: Sendable, Hashable {
        case delivered(afterFailures: Bool)
        case cancelled
    }

    /// Runs `attempt` until it returns; `failed` hears each failure and whether it starts a streak (log
    /// that one, count them all).
    public static func untilDelivered(
        base: Duration, cap: Duration, _ attempt: () async throws -> Void, failed: (_ error: any Error, _ firstOfStreak: Bool) -> Void
    ) async -> Outcome {
        var delay = base
        var failing = false
        while !Task.isCancelled {
            do {
                try await attempt()
                return .delivered(afterFailures: failing)
            } catch {
                failed(error, !failing)
                failing = true
                do { try await Task.sleep(for: delay) } catch { return .cancelled }
                delay = min(delay * 2, cap)
            }
        }
        return .cancelled
    }
}
