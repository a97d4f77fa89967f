/// Aggregates of one result bucket, fed with raw points and roll-up partial buckets alike.
///
/// `order` breaks ties of first/last between series combined in one group (the earlier series in key
/// order wins); within a series times are unique.
struct BucketAccumulator {
    var count: Int64 = 0
    var min = Double.infinity
    var max = -Double.infinity
    var sum = CompensatedSum()
    var firstTime = Int64.max
    var firstOrder = Int.max
    var firstValue = Double.nan
    var lastTime = Int64.min
    var lastOrder = Int.max
    var lastValue = Double.nan
    /// Every value, when a percentile is asked for.
    var values: [Double]? = nil

    init(keepValues: Bool) {
        if keepValues { values = [] }
    }

    @inline(__always) mutating func add(time: Int64, value: Double, order: Int) {
        count += 1
        if value < min { min = value }
        if value > max { max = value }
        sum.add(value)
        if time < firstTime || (time == firstTime && order < firstOrder) {
            firstTime = time
            firstOrder = order
            firstValue = value
        }
        if time > lastTime || (time == lastTime && order < lastOrder) {
            lastTime = time
            lastOrder = order
            lastValue = value
        }
        values?.append(value)
    }

    mutating func add(_ bucket: RollupBucket, order: Int) {
        guard bucket.count > 0 else { return }
        count += bucket.count
        if bucket.min < min { min = bucket.min }
        if bucket.max > max { max = bucket.max }
        sum.add(bucket.sum)
        if bucket.firstTime < firstTime || (bucket.firstTime == firstTime && order < firstOrder) {
            firstTime = bucket.firstTime
            firstOrder = order
            firstValue = bucket.firstValue
        }
        if bucket.lastTime > lastTime || (bucket.lastTime == lastTime && order < lastOrder) {
            lastTime = bucket.lastTime
            lastOrder = order
            lastValue = bucket.lastValue
        }
    }

    /// The requested aggregates (`values` sorted once if percentiles are asked for).
    mutating func results(_ aggregates: [Aggregate]) -> [Double] {
        if values != nil { values = values!.filter { !$0.isNaN }.sorted() }
        return aggregates.map { aggregate in
            switch aggregate {
            case .avg: return sum.value / Double(count)
            case .min: return min == .infinity ? .nan : min
            case .max: return max == -.infinity ? .nan : max
            case .sum: return sum.value
            case .count: return Double(count)
            case .first: return firstValue
            case .last: return lastValue
            case .percentile(let p):
                guard let sorted = values, !sorted.isEmpty else { return .nan }
                let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
                return sorted[Swift.max(1, Swift.min(sorted.count, rank)) - 1]
            }
        }
    }
}
