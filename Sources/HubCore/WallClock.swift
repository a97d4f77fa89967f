#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time for timestamps that must survive a restart or be compared with other machines
/// (persisted messages, session last-seen times, later SAS token expiry). Timers and timeouts use the
/// event loops' monotonic clock instead, so a clock step never fires or cancels them.
public enum WallClock {
    /// Milliseconds since 1970-01-01 UTC.
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
