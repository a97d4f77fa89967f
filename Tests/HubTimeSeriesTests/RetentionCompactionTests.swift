import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: compaction and retention")
struct RetentionCompactionTests {
    static let t0: Int64 = 1_767_571_200_000
    static let hour: Int64 = 3_600_000

    static func fill(_ store: TimeSeriesStore, keys: [SeriesKey], hours: Int, step: Int64, model: inout ReferenceModel) throws {
        let ids = try keys.map { try store.seriesID(device: $0.device, measure: $0.measure) }
        var batch = PointBatch()
        var time = t0
        var n = 0
        while time < t0 + Int64(hours) * hour {
            for (i, key) in keys.enumerated() {
                let value = Double((n * 13 + i * 7) % 500) / 10
                batch.append(ids[i], time: time, value: value)
                model.add(key, time, value)
            }
            n += 1
            time += step
            if batch.count > 200 {
                try store.append(batch)
                batch.removeAll()
            }
        }
        try store.append(batch)
    }

    @Test("compaction leaves one file per closed partition, keeps every point and moves the roll-ups")
    func compactionKeepsEveryPoint() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 8, flushBytes: 1_024))
        var model = ReferenceModel()
        let keys = [SeriesKey(device: "a", measure: "x"), SeriesKey(device: "b", measure: "x"), SeriesKey(device: "b", measure: "y")]
        try Self.fill(store, keys: keys, hours: 5, step: 7_000, model: &model)
        try store.flush()
        let closed = (0..<4).map { String(Self.t0 + Int64($0) * Self.hour) }
        #expect(closed.allSatisfy { directory.files(under: "blocks/\($0)").count > 1 })
        let report = try store.compact()
        #expect(report.compactedPartitions == 4)
        #expect(report.compactedRollupPartitions == 3)  // closed roll-up partitions: 1m [0, 2 h), [2 h, 4 h); 1h [0, 4 h)
        for partition in closed { #expect(directory.files(under: "blocks/\(partition)").count == 1) }
        #expect(!directory.files(under: "rollups/1m").isEmpty && !directory.files(under: "rollups/1h").isEmpty)
        try CrashRecoveryTests.expectSame(store, model, "after compaction")
        #expect(directory.files(under: "rollups/1m").count == 2 && directory.files(under: "rollups/1h").count == 1)
        #expect(try store.compact() == MaintenanceReport())
        try store.close()
        try CrashRecoveryTests.expectSame(try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 8, flushBytes: 1_024)), model, "reopened")
    }

    @Test("tiered merging of an open partition's files keeps every point and exact roll-ups, out-of-order rewrites included")
    func openPartitionMerges() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration.small(headPoints: 8, flushBytes: 1_024)
        configuration.partitionDuration = .seconds(2 * 3_600)
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        var model = ReferenceModel()
        let keys = [SeriesKey(device: "a", measure: "x"), SeriesKey(device: "b", measure: "x")]
        let ids = try keys.map { try store.seriesID(device: $0.device, measure: $0.measure) }
        var time = Self.t0
        var merged = 0
        for round in 0..<40 {
            var batch = PointBatch()
            for _ in 0..<12 {
                for (i, key) in keys.enumerated() {
                    let value = Double((round * 31 + Int(time / 1_000) % 97 + i) % 400) / 4
                    batch.append(ids[i], time: time, value: value)
                    model.add(key, time, value)
                }
                time += 9_000
            }
            // Rewrite a few sealed points (last write wins) so files overlap.
            if round % 3 == 2 {
                for (i, key) in keys.enumerated() {
                    for old in model.points(key, from: time - 280_000, to: time - 200_000).times.prefix(2) {
                        batch.append(ids[i], time: old, value: -Double(round))
                        model.add(key, old, -Double(round))
                    }
                }
            }
            #expect(try store.append(batch).rejected == 0)
            try store.flush()
            if round % 5 == 4 {
                merged += try store.compact().mergedFiles
                try CrashRecoveryTests.expectSame(store, model, "round \(round)", duplicatesMerged: false)
                for interval: Int64 in [60_000, 600_000, Self.hour] {
                    _ = try AggregateQueryTests.check(store, model, from: Self.t0 + 30_000, to: time, interval: interval, aggregates: AggregateQueryTests.allAggregates)
                }
            }
        }
        #expect(merged > 8)
        #expect(store.statistics.files < 12)
        try store.close()
        try CrashRecoveryTests.expectSame(try TimeSeriesStore(directory: directory.path, configuration: configuration), model, "reopened", duplicatesMerged: false)
    }

    @Test("retention drops whole partitions, trims expired series, and keeps roll-ups longer than raw points")
    func retention() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration.small(headPoints: 8, flushBytes: 4_096)
        configuration.retention = RetentionPolicy(
            raw: .seconds(3 * 3_600), minute: .seconds(6 * 3_600), hour: .seconds(12 * 3_600),
            rules: [
                RetentionRule(measurePattern: "temp*", raw: .seconds(2 * 3_600), minute: .seconds(3 * 3_600), hour: .seconds(12 * 3_600)),
                RetentionRule(devicePattern: "keep-*", raw: .seconds(8 * 3_600), minute: .seconds(10 * 3_600), hour: .seconds(12 * 3_600)),
            ])
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        var model = ReferenceModel()
        let keys = [SeriesKey(device: "d-1", measure: "velocity"), SeriesKey(device: "d-1", measure: "temperature"),
                    SeriesKey(device: "keep-1", measure: "velocity"), SeriesKey(device: "keep-1", measure: "temperature")]
        try Self.fill(store, keys: keys, hours: 10, step: 30_000, model: &model)
        let now = Self.t0 + 12 * Self.hour
        let report = try store.maintain(now: now)
        #expect(report.droppedPartitions == 4)  // raw partitions ending at or before now - 8 h
        #expect(report.trimmedPartitions > 0 && report.droppedRollupPartitions > 0)
        func rawHorizon(_ key: SeriesKey) -> Int64 {
            key.measure.hasPrefix("temp") ? 2 * Self.hour : key.device.hasPrefix("keep-") ? 8 * Self.hour : 3 * Self.hour
        }
        let closedBoundary = Self.t0 + 9 * Self.hour
        let result = try store.rawPoints(.all, from: .min, to: .max)
        for key in keys {
            let kept = model.points(key).times.filter { time in
                let end = Rollup.align(time, to: Self.hour) + Self.hour
                return end > closedBoundary || end > now - rawHorizon(key)
            }
            #expect(result.series.first { $0.key == key }?.times ?? [] == kept, "\(key)")
        }
        for hour in 0..<4 { #expect(directory.files(under: "blocks/\(Self.t0 + Int64(hour) * Self.hour)").isEmpty) }
        // [2 h, 4 h): raw points are gone; the keep-* minute roll-ups remain (10 h), the others are trimmed (6 h).
        let old = try store.aggregate(AggregateQuery(selector: SeriesSelector(measures: ["velocity"]), from: Self.t0 + 2 * Self.hour, to: Self.t0 + 4 * Self.hour, interval: 60_000, aggregates: [.count, .min, .max]))
        #expect(old.groups.map { $0.device ?? "" } == ["keep-1"])
        let reference = model.points(keys[2], from: Self.t0 + 2 * Self.hour, to: Self.t0 + 4 * Self.hour)
        let expected = BruteForce.buckets(times: reference.times, values: reference.values, from: Self.t0 + 2 * Self.hour, to: Self.t0 + 4 * Self.hour, interval: 60_000, aggregates: [.count, .min, .max])
        #expect(old.groups.first.map { BruteForce.same($0.buckets, expected, [.count, .min, .max]) } == true)
        // The first minute roll-up partition [0, 2 h) is past every rule's minute retention: gone for all.
        #expect(try store.aggregate(AggregateQuery(selector: .all, from: Self.t0, to: Self.t0 + 2 * Self.hour, interval: 60_000, aggregates: [.count])).groups.isEmpty)
        // Hour roll-ups (12 h) still cover everything.
        let hours = try store.aggregate(AggregateQuery(selector: .all, from: Self.t0, to: Self.t0 + 8 * Self.hour, interval: Self.hour, aggregates: [.count]))
        #expect(hours.groups.count == 4 && hours.groups.allSatisfy { $0.buckets.count == 8 })
        // Running it again changes nothing; the store reopens consistent.
        #expect(try store.maintain(now: now) == MaintenanceReport())
        try store.close()
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        let again = try reopened.rawPoints(.all, from: .min, to: .max)
        #expect(again.series.map(\.times.count) == result.series.map(\.times.count))
        #expect(again == result)
    }

    @Test("the WAL is checkpointed as it grows and emptied by checkpoint()")
    func walCheckpoint() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 40, flushBytes: 1 << 20))
        var model = ReferenceModel()
        let keys = (0..<20).map { SeriesKey(device: "d\($0)", measure: "m") }
        try Self.fill(store, keys: keys, hours: 3, step: 5_000, model: &model)
        let stats = store.statistics
        #expect(stats.walBytes <= 1 << 18 + 1 << 16, "bounded by walMaximumBytes")
        try store.checkpoint()
        let after = store.statistics
        #expect(after.walSegments == 1 && after.headPoints == 0)
        try store.close()
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 40, flushBytes: 1 << 20))
        #expect(reopened.recovery.replayedPoints == 0)
        try CrashRecoveryTests.expectSame(reopened, model, "after checkpoint")
    }
}
