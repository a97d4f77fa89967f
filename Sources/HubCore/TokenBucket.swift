/// A token bucket: `rate` tokens per second up to `burst`. Pure (time is an input); callers guard it
/// with a lock when shared. Used for throttling new connections and registry operations.
public struct TokenBucket: Sendable, Hashable {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var lastNanos: UInt64?

    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.tokens = max(1, burst)
    }

    /// Takes one token at monotonic time `nowNanos`. Returns nil when taken, else the seconds until one
    /// is available (for `Retry-After`).
    public mutating func take(nowNanos: UInt64) -> Double? {
        if let last = lastNanos, nowNanos > last {
            tokens = min(burst, tokens + Double(nowNanos - last) / 1e9 * ratePerSecond)
        }
        lastNanos = max(lastNanos ?? nowNanos, nowNanos)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return ratePerSecond > 0 ? (1 - tokens) / ratePerSecond : .infinity
    }
}
