/// The two roll-up resolutions kept continuously.
enum RollupResolution: UInt8, Sendable, CaseIterable {
    case minute = 1
    case hour = 2

    var milliseconds: Int64 { self == .minute ? 60_000 : 3_600_000 }
    /// The directory under `<dir>/rollups/`.
    var directoryName: String { self == .minute ? "1m" : "1h" }
}

/// A summary of one series' points in one bucket: count, min, max, sum, and the first and last points.
///
/// Partial buckets (a bucket's points sealed in two blocks) merge exactly: count and sum add, min/max
/// combine, first/last keep the earlier/later time. A `dirty` bucket says "points here may duplicate
/// points summarized elsewhere" (an out-of-order block overlapped sealed data): a query computes it from
/// the raw points instead; compaction of the closed partition replaces it with an exact summary.
struct RollupBucket: Sendable, Hashable {
    var start: Int64
    var count: Int64 = 0
    var min = Double.infinity
    var max = -Double.infinity
    var sum = CompensatedSum()
    var firstTime = Int64.max
    var firstValue = 0.0
    var lastTime = Int64.min
    var lastValue = 0.0
    var dirty = false

    init(start: Int64) { self.start = start }

    static func dirty(start: Int64) -> RollupBucket {
        var bucket = RollupBucket(start: start)
        bucket.dirty = true
        return bucket
    }

    /// Adds one point (points of one series, any order, no duplicate times).
    @inline(__always) mutating func add(time: Int64, value: Double) {
        count += 1
        if value < min { min = value }
        if value > max { max = value }
        sum.add(value)
        if time < firstTime { firstTime = time; firstValue = value }
        if time > lastTime { lastTime = time; lastValue = value }
    }

    mutating func merge(_ other: RollupBucket) {
        if other.dirty { dirty = true }
        guard other.count > 0 else { return }
        count += other.count
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        sum.add(other.sum)
        if other.firstTime < firstTime { firstTime = other.firstTime; firstValue = other.firstValue }
        if other.lastTime > lastTime { lastTime = other.lastTime; lastValue = other.lastValue }
    }
}

/// Building roll-ups from sorted points.
enum Rollup {
    /// Floor division (times before 1970 are negative).
    @inline(__always) static func align(_ time: Int64, to step: Int64) -> Int64 {
        let q = time / step
        return (time % step != 0 && time < 0 ? q - 1 : q) * step
    }

    /// Buckets for points sorted by time (one series, no duplicate times).
    static func buckets(times: [Int64], values: [Double], range: Range<Int>? = nil, resolution: RollupResolution) -> [RollupBucket] {
        let range = range ?? 0..<times.count
        guard !range.isEmpty else { return [] }
        let step = resolution.milliseconds
        var result: [RollupBucket] = []
        var current = RollupBucket(start: align(times[range.lowerBound], to: step))
        var end = current.start &+ step
        for i in range {
            let time = times[i]
            if time >= end {
                result.append(current)
                current = RollupBucket(start: align(time, to: step))
                end = current.start &+ step
            }
            current.add(time: time, value: values[i])
        }
        result.append(current)
        return result
    }

    /// Hour buckets merged from minute buckets (sorted by start): exact, since an hour is a union of minutes.
    /// Raw files and memory blocks keep only minutes; hours are derived when read.
    static func hours(fromMinutes minutes: [RollupBucket]) -> [RollupBucket] {
        var result: [RollupBucket] = []
        for minute in minutes {
            let start = align(minute.start, to: RollupResolution.hour.milliseconds)
            if result.last?.start != start { result.append(RollupBucket(start: start)) }
            result[result.count - 1].merge(minute)
        }
        return result
    }

    /// Dirty markers for the buckets holding `times` (sorted).
    static func dirtyBuckets(times: [Int64], range: Range<Int>, resolution: RollupResolution) -> [RollupBucket] {
        var result: [RollupBucket] = []
        for i in range {
            let start = align(times[i], to: resolution.milliseconds)
            if result.last?.start != start { result.append(.dirty(start: start)) }
        }
        return result
    }
}
