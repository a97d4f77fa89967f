/// A point in wall-clock time with millisecond precision (milliseconds since 1970-01-01 UTC).
/// Kept as an integer so domain values stay free of Foundation and compare exactly.
public struct Timestamp: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(millisecondsSince1970 ms: Int64) { self.rawValue = ms }

    public static func now() -> Timestamp { Timestamp(rawValue: WallClock.nowMillis()) }
    public var secondsSince1970: Int64 { rawValue / 1000 }
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.rawValue < rhs.rawValue }
}
