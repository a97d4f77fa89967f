/// The result buckets of one group: a dense array when the range holds few buckets (the usual dashboard
/// query), a dictionary otherwise.
struct AccumulatorTable {
    static let denseLimit = 4_096

    let interval: Int64
    let base: Int64
    let keepValues: Bool
    private var dense: [BucketAccumulator]
    private var sparse: [Int64: BucketAccumulator] = [:]
    private let isDense: Bool

    init(from: Int64, to: Int64, interval: Int64, keepValues: Bool) {
        self.interval = interval
        self.keepValues = keepValues
        base = Rollup.align(from, to: interval)
        let (span, overflow) = (to - 1).subtractingReportingOverflow(base)
        let count = overflow ? Int64.max : span / interval + 1
        isDense = count <= Int64(Self.denseLimit)
        dense = isDense ? Array(repeating: BucketAccumulator(keepValues: keepValues), count: Int(count)) : []
    }

    @inline(__always) mutating func add(bucket start: Int64, time: Int64, value: Double, order: Int) {
        if isDense {
            dense[Int((start - base) / interval)].add(time: time, value: value, order: order)
        } else {
            sparse[start, default: BucketAccumulator(keepValues: keepValues)].add(time: time, value: value, order: order)
        }
    }

    mutating func add(bucket start: Int64, rollup: RollupBucket, order: Int) {
        if isDense {
            dense[Int((start - base) / interval)].add(rollup, order: order)
        } else {
            sparse[start, default: BucketAccumulator(keepValues: keepValues)].add(rollup, order: order)
        }
    }

    /// Non-empty buckets in time order.
    mutating func buckets(_ aggregates: [Aggregate]) -> [AggregateBucket] {
        var result: [AggregateBucket] = []
        if isDense {
            for index in dense.indices where dense[index].count > 0 {
                result.append(AggregateBucket(start: base + Int64(index) * interval, count: Int(dense[index].count), values: dense[index].results(aggregates)))
            }
        } else {
            for start in sparse.keys.sorted() {
                var accumulator = sparse[start]!
                guard accumulator.count > 0 else { continue }
                result.append(AggregateBucket(start: start, count: Int(accumulator.count), values: accumulator.results(aggregates)))
            }
        }
        return result
    }
}
