import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: bucketed aggregates")
struct AggregateQueryTests {
    static let t0: Int64 = 1_767_571_200_000
    static let allAggregates: [Aggregate] = [.avg, .min, .max, .sum, .count, .first, .last]
    static let withPercentiles: [Aggregate] = allAggregates + [.p50, .p90, .p95, .p99]

    /// Irregular 2-decimal random walks for `keys` over `hours`, with out-of-order points inside the window
    /// and repeated times (last write wins); everything is accepted.
    static func ingest(_ store: TimeSeriesStore, keys: [SeriesKey], hours: Double, seed: UInt64, model: inout ReferenceModel) throws {
        var rng = StoreTestRandom(seed: seed)
        let ids = try keys.map { try store.seriesID(device: $0.device, measure: $0.measure) }
        var value = [Double](repeating: 50, count: keys.count)
        var newest = [Int64](repeating: t0, count: keys.count)
        var batch = PointBatch()
        let end = t0 + Int64(hours * 3_600_000)
        var time = t0
        while time < end {
            for i in keys.indices where Int.random(in: 0..<4, using: &rng) != 0 {
                value[i] = ((value[i] + Double.random(in: -2...2, using: &rng)) * 100).rounded() / 100
                var t = time + Int64.random(in: 0..<1_000, using: &rng)
                switch Int.random(in: 0..<20, using: &rng) {
                case 0: t = newest[i] - Int64.random(in: 0...290_000, using: &rng)  // late but in the window (maybe a repeat)
                case 1: t = newest[i]  // same time again
                default: break
                }
                t = max(t, t0)
                batch.append(ids[i], time: t, value: value[i])
                model.add(keys[i], t, value[i])
                newest[i] = max(newest[i], t)
            }
            if batch.count >= 40 {
                let result = try store.append(batch)
                #expect(result.accepted == batch.count)
                batch.removeAll()
            }
            time += Int64.random(in: 1_000...25_000, using: &rng)
        }
        try store.append(batch)
    }

    /// Compares a query's result with the brute force over the model, per series.
    static func check(_ store: TimeSeriesStore, _ model: ReferenceModel, from: Int64, to: Int64, interval: Int64, aggregates: [Aggregate], useRollups: Bool = true) throws -> AggregateResult {
        let result = try store.aggregate(AggregateQuery(selector: .all, from: from, to: to, interval: interval, aggregates: aggregates, useRollups: useRollups))
        var expectedGroups: [(SeriesKey, [AggregateBucket])] = []
        for key in model.keys {
            let points = model.points(key)
            let buckets = BruteForce.buckets(times: points.times, values: points.values, from: from, to: to, interval: interval, aggregates: aggregates)
            if !buckets.isEmpty { expectedGroups.append((key, buckets)) }
        }
        #expect(result.groups.map { SeriesKey(device: $0.device ?? "", measure: $0.measure) } == expectedGroups.map(\.0), "interval \(interval) from \(from - t0) to \(to - t0)")
        for (group, expected) in zip(result.groups, expectedGroups) {
            #expect(BruteForce.same(group.buckets, expected.1, aggregates), "\(expected.0) interval \(interval) from \(from - t0) to \(to - t0) rollups \(useRollups)")
        }
        return result
    }

    static let keys = [SeriesKey(device: "d1", measure: "a"), SeriesKey(device: "d1", measure: "b"), SeriesKey(device: "d2", measure: "a")]

    @Test("every aggregate matches a brute-force computation on random data, at every stage", arguments: 0..<4)
    func randomData(seed: Int) throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        try Self.ingest(store, keys: Self.keys, hours: 4.5, seed: UInt64(seed), model: &model)
        var rng = StoreTestRandom(seed: UInt64(100 + seed))
        let intervals: [Int64] = [1_000, 7_000, 60_000, 90_000, 300_000, 3_600_000, 7_200_000]
        func randomQueries(_ stage: String) throws {
            for _ in 0..<12 {
                let from = Self.t0 + Int64.random(in: -600_000...(4 * 3_600_000), using: &rng)
                let to = from + Int64.random(in: 1...(3 * 3_600_000), using: &rng)
                let interval = intervals.randomElement(using: &rng)!
                let aggregates = Bool.random(using: &rng) ? Self.withPercentiles : Self.allAggregates
                _ = try Self.check(store, model, from: from, to: to, interval: interval, aggregates: aggregates)
            }
            _ = try Self.check(store, model, from: Self.t0 - 3_600_000, to: Self.t0 + 6 * 3_600_000, interval: 3_600_000, aggregates: Self.allAggregates)
        }
        try randomQueries("memory")
        try store.flush()
        try randomQueries("files")
        let report = try store.compact()
        #expect(report.compactedPartitions >= 2)
        try randomQueries("compacted")
        try store.close()
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: .small())
        _ = try Self.check(reopened, model, from: Self.t0, to: Self.t0 + 5 * 3_600_000, interval: 60_000, aggregates: Self.withPercentiles)
        _ = try Self.check(reopened, model, from: Self.t0 + 1, to: Self.t0 + 5 * 3_600_000 - 1, interval: 3_600_000, aggregates: Self.allAggregates)
    }

    @Test("bucket edges: points on bucket starts and ends, empty buckets, a single point, ragged range ends")
    func bucketEdges() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 3))
        let id = try store.seriesID(device: "d", measure: "m")
        var model = ReferenceModel()
        let points: [(Int64, Double)] = [(0, 1), (59_999, 2), (60_000, 3), (119_999, 4), (120_000, 5), (240_000, 6), (299_999, 7), (300_000, 8)]
        var batch = PointBatch()
        for (offset, value) in points {
            batch.append(id, time: Self.t0 + offset, value: value)
            model.add(SeriesKey(device: "d", measure: "m"), Self.t0 + offset, value)
        }
        try store.append(batch)
        let minute = try store.aggregate(AggregateQuery(selector: .all, from: Self.t0, to: Self.t0 + 300_001, interval: 60_000, aggregates: [.count, .first, .last, .min, .max, .sum]))
        #expect(minute.groups.count == 1)
        #expect(minute.groups[0].buckets.map(\.start) == [0, 60_000, 120_000, 240_000, 300_000].map { Self.t0 + $0 })
        #expect(minute.groups[0].buckets.map(\.count) == [2, 2, 1, 2, 1])
        #expect(minute.groups[0].buckets[2].values == [1, 5, 5, 5, 5, 5])
        #expect(minute.groups[0].buckets[0].values == [2, 1, 2, 1, 2, 3])
        for (from, to) in [(Self.t0 + 59_999, Self.t0 + 120_000), (Self.t0 + 1, Self.t0 + 299_999), (Self.t0 - 1, Self.t0 + 1), (Self.t0 + 130_000, Self.t0 + 230_000)] {
            for interval: Int64 in [1_000, 60_000, 120_000, 3_600_000] {
                _ = try Self.check(store, model, from: from, to: to, interval: interval, aggregates: Self.withPercentiles)
            }
        }
        let everything = try store.aggregate(AggregateQuery(selector: .all, from: .min, to: .max, interval: 3_600_000, aggregates: [.count, .sum]))
        #expect(everything.groups.first?.buckets.map(\.count) == [8])
        let empty = try store.aggregate(AggregateQuery(selector: .all, from: Self.t0 + 130_000, to: Self.t0 + 230_000, interval: 60_000, aggregates: [.avg]))
        #expect(empty.groups.isEmpty)
        #expect(throws: TimeSeriesError.self) { try store.aggregate(AggregateQuery(selector: .all, from: 0, to: 1, interval: 999, aggregates: [.avg])) }
        #expect(throws: TimeSeriesError.self) { try store.aggregate(AggregateQuery(selector: .all, from: 0, to: 10, interval: 1_000, aggregates: [.percentile(0)])) }
    }

    @Test("roll-up path equals raw path for minute and hour multiples, with ragged ends, block boundaries and dirty buckets")
    func rollupsEqualRaw() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 8))
        try Self.ingest(store, keys: Self.keys, hours: 5.2, seed: 42, model: &model)
        // Rewrite some already-sealed points (out of order, inside the window): their buckets become dirty.
        let id = try store.seriesID(device: "d1", measure: "a")
        let key = Self.keys[0]
        let newest = model.points(key).times.last!
        var batch = PointBatch()
        for time in model.points(key, from: newest - 280_000, to: newest).times.prefix(6) {
            batch.append(id, time: time, value: 999)
            model.add(key, time, 999)
        }
        #expect(try store.append(batch).accepted == batch.count)
        let ranges: [(Int64, Int64)] = [
            (Self.t0, Self.t0 + 5 * 3_600_000), (Self.t0 + 37_123, Self.t0 + 4 * 3_600_000 + 59_999),
            (Self.t0 + 3_599_999, Self.t0 + 3_600_000 * 3 + 1), (Self.t0 + 61_000, Self.t0 + 179_000), (Self.t0 - 7_200_000, Self.t0 + 6 * 3_600_000),
        ]
        func compare(_ stage: String) throws {
            for (from, to) in ranges {
                for interval: Int64 in [60_000, 120_000, 600_000, 3_600_000, 7_200_000, 3 * 3_600_000] {
                    let viaRollups = try Self.check(store, model, from: from, to: to, interval: interval, aggregates: Self.allAggregates)
                    let raw = try Self.check(store, model, from: from, to: to, interval: interval, aggregates: Self.allAggregates, useRollups: false)
                    #expect(raw.rollupBucketsUsed == 0)
                    if to - from > 3 * 3_600_000 { #expect(viaRollups.rollupBucketsUsed > 0, "\(stage)") }
                    #expect(viaRollups.rawPointsRead < raw.rawPointsRead || to - from < 600_000, "\(stage)")
                }
            }
        }
        try compare("memory")
        try store.flush()
        try compare("files")
        try store.compact()
        try compare("compacted")
    }

    @Test("grouping by measure combines devices per bucket")
    func groupedByMeasure() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let keys = (0..<4).map { SeriesKey(device: "drone-\($0)", measure: "velocity") } + [SeriesKey(device: "drone-0", measure: "alt")]
        try Self.ingest(store, keys: keys, hours: 2.5, seed: 9, model: &model)
        for useRollups in [true, false] {
            for interval: Int64 in [60_000, 3_600_000, 17_000] {
                let from = Self.t0 + 12_345, to = Self.t0 + 2 * 3_600_000 + 5_000
                let result = try store.aggregate(AggregateQuery(selector: SeriesSelector(measures: ["velocity"]), from: from, to: to, interval: interval, aggregates: Self.allAggregates + [.p90], grouping: .measure, useRollups: useRollups))
                #expect(result.groups.count == 1 && result.groups[0].device == nil && result.groups[0].measure == "velocity")
                // Brute force over the union; first/last ties go to the earlier series in key order.
                var points: [(time: Int64, order: Int, value: Double)] = []
                for (order, key) in keys.prefix(4).enumerated() {
                    let p = model.points(key, from: from, to: to)
                    for i in p.times.indices { points.append((p.times[i], order, p.values[i])) }
                }
                let byBucket = Dictionary(grouping: points) { Rollup.align($0.time, to: interval) }
                let expected = byBucket.keys.sorted().map { start -> AggregateBucket in
                    let bucket = byBucket[start]!
                    let values = bucket.map(\.value)
                    let first = bucket.min { ($0.time, $0.order) < ($1.time, $1.order) }!
                    let last = bucket.min { ($0.time, -$0.order) > ($1.time, -$1.order) }!
                    let sorted = values.sorted()
                    let p90 = sorted[max(1, min(sorted.count, Int((0.9 * Double(sorted.count)).rounded(.up)))) - 1]
                    return AggregateBucket(start: start, count: values.count, values: [
                        values.reduce(0, +) / Double(values.count), values.min()!, values.max()!, values.reduce(0, +), Double(values.count), first.value, last.value, p90,
                    ])
                }
                #expect(BruteForce.same(result.groups[0].buckets, expected, Self.allAggregates + [.p90]), "interval \(interval) rollups \(useRollups)")
            }
        }
    }
}
