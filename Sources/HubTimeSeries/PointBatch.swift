/// Points to append, as three parallel arrays (one entry per field value). Reuse one batch across calls
/// (`removeAll(keepingCapacity:)`) so the ingest path allocates nothing per point.
public struct PointBatch: Sendable {
    @usableFromInline var seriesStorage: [UInt32] = []
    @usableFromInline var timeStorage: [Int64] = []
    @usableFromInline var valueStorage: [Double] = []

    /// Series ids (`SeriesID.rawValue`), one per value.
    public var series: [UInt32] { seriesStorage }
    /// Milliseconds since 1970-01-01 UTC.
    public var times: [Int64] { timeStorage }
    /// The values (integers and booleans as `Double`).
    public var values: [Double] { valueStorage }

    /// An empty batch with room for `capacity` values.
    public init(capacity: Int = 0) {
        reserveCapacity(capacity)
    }

    /// Values in the batch.
    public var count: Int { seriesStorage.count }
    /// Whether the batch has no values.
    public var isEmpty: Bool { seriesStorage.isEmpty }

    /// Makes room for `capacity` values.
    public mutating func reserveCapacity(_ capacity: Int) {
        seriesStorage.reserveCapacity(capacity)
        timeStorage.reserveCapacity(capacity)
        valueStorage.reserveCapacity(capacity)
    }

    /// One value of `series` at `time` (ms). Integers and booleans go in as `Double` (`1.0` for true).
    @inlinable
    public mutating func append(_ series: SeriesID, time: Int64, value: Double) {
        seriesStorage.append(series.rawValue)
        timeStorage.append(time)
        valueStorage.append(value)
    }

    /// Empties the batch, by default keeping its storage for the next one.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        seriesStorage.removeAll(keepingCapacity: keepingCapacity)
        timeStorage.removeAll(keepingCapacity: keepingCapacity)
        valueStorage.removeAll(keepingCapacity: keepingCapacity)
    }
}

/// What happened to a batch: every value is either accepted or counted in one of the rejection counts
/// (never silently dropped).
public struct AppendResult: Sendable, Hashable {
    /// Values stored (a value for a time the series already has replaces it: last write wins).
    public var accepted = 0
    /// Values older than the series' newest value by more than the out-of-order window, or in a partition
    /// that is already closed.
    public var rejectedLate = 0
    /// Values further in the future than `Configuration.maximumFutureSkew` allows (or beyond 2^62 ms).
    public var rejectedFuture = 0
    /// String values the string dictionary refused (too long, or the dictionary full); counted by writers
    /// that resolve strings with `TimeSeriesStore.stringValue(_:)` before appending.
    public var rejectedStrings = 0

    /// A result with the given counts.
    public init(accepted: Int = 0, rejectedLate: Int = 0, rejectedFuture: Int = 0, rejectedStrings: Int = 0) {
        self.accepted = accepted
        self.rejectedLate = rejectedLate
        self.rejectedFuture = rejectedFuture
        self.rejectedStrings = rejectedStrings
    }

    /// Values not stored, for any reason.
    public var rejected: Int { rejectedLate + rejectedFuture + rejectedStrings }

    /// Adds the counts of `rhs`.
    public static func += (lhs: inout AppendResult, rhs: AppendResult) {
        lhs.accepted += rhs.accepted
        lhs.rejectedLate += rhs.rejectedLate
        lhs.rejectedFuture += rhs.rejectedFuture
        lhs.rejectedStrings += rhs.rejectedStrings
    }
}
