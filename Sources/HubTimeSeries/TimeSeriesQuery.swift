/// Which series a query reads: by device ids (nil: every device), measure names (nil: every measure) and
/// series tags (nil: any).
public struct SeriesSelector: Sendable, Hashable {
    /// Device ids; nil selects every device.
    public var devices: [String]?
    /// Measure names; nil selects every measure.
    public var measures: [String]?
    /// Only series whose tags include every one of these pairs; nil (or empty) selects series with any tags.
    public var tags: [String: String]?

    /// A selection by device ids, measure names and tags (nil: all).
    public init(devices: [String]? = nil, measures: [String]? = nil, tags: [String: String]? = nil) {
        self.devices = devices
        self.measures = measures
        self.tags = tags
    }

    /// Every series.
    public static let all = SeriesSelector()
}

/// One series' points (sorted by time, one value per time).
public struct SeriesPoints: Sendable, Hashable {
    /// Device and measure.
    public var key: SeriesKey
    /// The series' value type.
    public var type: ValueType
    /// Times (ms), ascending.
    public var times: [Int64]
    /// The value at each time (for a string series, codes of the store's string dictionary).
    public var values: [Double]
    /// For a string series, the string at each time (empty for other types).
    public var strings: [String] = []
}

/// Raw points of the selected series in [from, to), in key order, at most `limit` points in total.
public struct RawPointsResult: Sendable, Hashable {
    /// Series with points in range, in key order.
    public var series: [SeriesPoints]
    /// More points matched than the limit allowed (the last series listed may be cut short, later ones left out).
    public var truncated: Bool
}

/// A function computed per bucket.
public enum Aggregate: Sendable, Hashable {
    case avg, min, max, sum, count, first, last
    /// The nearest-rank percentile (0 < p ≤ 100) of the bucket's points: the smallest value with at least p%
    /// of the values at or below it. Exact (computed from raw points, never from roll-ups); NaN values are
    /// left out.
    case percentile(Double)

    /// The median.
    public static let p50 = Aggregate.percentile(50)
    /// The 90th percentile.
    public static let p90 = Aggregate.percentile(90)
    /// The 95th percentile.
    public static let p95 = Aggregate.percentile(95)
    /// The 99th percentile.
    public static let p99 = Aggregate.percentile(99)
}

/// How series are combined into result groups.
public enum AggregateGrouping: Sendable, Hashable {
    /// One group per series.
    case series
    /// One group per measure, all selected devices together ("mean velocity of the fleet per minute").
    case measure
}

/// Bucketed aggregates of the selected series over [from, to): buckets of `interval` ms aligned to the
/// epoch (a bucket is [k·interval, (k+1)·interval)), clipped to the range; buckets without points are left
/// out. When the interval is a whole number of minutes (hours) and no percentile is asked for, the parts of
/// buckets that are whole minutes (hours) are read from the 1-minute (1-hour) roll-ups and the rest from raw
/// points; the results are the same as from raw points (sums and averages up to the last bits of rounding:
/// both are computed with compensated summation).
public struct AggregateQuery: Sendable, Hashable {
    /// The series to read.
    public var selector: SeriesSelector
    /// The range [from, to) in ms.
    public var from: Int64
    /// (End of the range, exclusive.)
    public var to: Int64
    /// Bucket width in ms, at least 1,000.
    public var interval: Int64
    /// What to compute per bucket (results in this order).
    public var aggregates: [Aggregate]
    /// One group per series or per measure.
    public var grouping: AggregateGrouping
    /// Read roll-ups where possible (turn off to force raw points, e.g. to compare).
    public var useRollups: Bool

    /// A query; see the properties.
    public init(selector: SeriesSelector, from: Int64, to: Int64, interval: Int64, aggregates: [Aggregate], grouping: AggregateGrouping = .series, useRollups: Bool = true) {
        self.selector = selector
        self.from = from
        self.to = to
        self.interval = interval
        self.aggregates = aggregates
        self.grouping = grouping
        self.useRollups = useRollups
    }
}

/// One bucket: its start, how many points it summarizes, and one value per requested aggregate (in order).
public struct AggregateBucket: Sendable, Hashable {
    /// The bucket's start (ms, a multiple of the interval: the whole bucket, even when the range clips it).
    public var start: Int64
    /// Points summarized.
    public var count: Int
    /// One value per requested aggregate, in request order (NaN when undefined, e.g. a percentile of NaNs,
    /// or anything but count, first and last of strings).
    public var values: [Double]
    /// For a group of string series, the strings of `first` and `last` by aggregate position (nil elsewhere);
    /// empty for numeric groups.
    public var strings: [String?] = []
}

/// The buckets of one series (`device` set) or one measure (`grouping: .measure`, `device` nil).
public struct AggregateGroup: Sendable, Hashable {
    /// The device (nil when devices were combined).
    public var device: String?
    /// The measure.
    public var measure: String
    /// The series' tags (canonical; empty when none, and when series were combined).
    public var tags: String = ""
    /// Whether the group's values are strings (string series are never combined with numeric ones).
    public var isString = false
    /// Buckets with points, by start.
    public var buckets: [AggregateBucket]
}

/// The result of `TimeSeriesStore.aggregate`.
public struct AggregateResult: Sendable, Hashable {
    /// Groups with at least one bucket, in key (or measure) order.
    public var groups: [AggregateGroup]
    /// How the answer was computed: roll-up buckets merged and raw points read.
    public var rollupBucketsUsed: Int
    /// Raw points read: unsealed head points and points decoded from blocks.
    public var rawPointsRead: Int
}

/// A series' newest value (the greatest time ever accepted; last write wins at that time).
public struct LastValue: Sendable, Hashable {
    /// Device and measure.
    public var key: SeriesKey
    /// The series' value type.
    public var type: ValueType
    /// The newest time (ms).
    public var time: Int64
    /// The value at that time (a string series' dictionary code).
    public var value: Double
    /// A string series' value at that time (nil for other types).
    public var string: String?

    /// A last value (`string`: a string series' value).
    public init(key: SeriesKey, type: ValueType, time: Int64, value: Double, string: String? = nil) {
        self.key = key
        self.type = type
        self.time = time
        self.value = value
        self.string = string
    }
}
