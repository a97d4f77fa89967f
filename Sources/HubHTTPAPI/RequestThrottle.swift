import HubCore
import Synchronization

/// A hub-wide budget of REST operations as a token bucket: `perMinute` tokens a minute with bursts of
/// 10 seconds' worth (at least 10). 0 disables it. The service API has one for registry operations
/// (Azure: 100/min on S1; test plan S6), the device API its own for device operations, so neither kind
/// of traffic can starve the other.
final class RequestThrottle: Sendable {
    /// What the budget is for, in the 429 message: `registry`, `device`.
    private let purpose: String
    private let enabled: Bool
    private let bucket: Mutex<TokenBucket>
    /// Monotonic nanoseconds.
    private let clock: @Sendable () -> UInt64

    init(perMinute: Int, purpose: String = "registry", clock: @escaping @Sendable () -> UInt64 = { ContinuousClock.now.nanosecondsSinceStart }) {
        self.purpose = purpose
        self.clock = clock
        self.enabled = perMinute > 0
        self.bucket = Mutex(TokenBucket(ratePerSecond: Double(max(perMinute, 1)) / 60, burst: max(10, Double(perMinute) / 6)))
    }

    /// Takes one operation's token; 429 `ThrottlingException` with `Retry-After` (whole seconds, at
    /// least 1) when none is left.
    func admit() throws(APIError) {
        guard enabled else { return }
        let now = clock()
        guard let wait = bucket.withLock({ $0.take(nowNanos: now) }) else { return }
        let seconds = wait.isFinite ? max(1, Int(wait.rounded(.up))) : 60
        var error = APIError(.throttled, "the \(purpose) operation rate of this hub is exceeded; retry after \(seconds) s")
        error.headers.append(("Retry-After", String(seconds)))
        throw error
    }
}

extension ContinuousClock.Instant {
    /// Nanoseconds since an arbitrary fixed start (the process's first reading).
    var nanosecondsSinceStart: UInt64 {
        let elapsed = ContinuousClock.Instant.processStart.duration(to: self)
        let (seconds, attoseconds) = elapsed.components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }

    private static let processStart = ContinuousClock.now
}
