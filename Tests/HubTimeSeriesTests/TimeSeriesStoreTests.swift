import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: ingest and raw queries")
struct TimeSeriesStoreTests {
    static let t0: Int64 = 1_767_571_200_000  // 2026-01-05T00:00:00Z

    /// Three series, 10-second steps over five hours: many blocks, files and partitions.
    static func fill(_ store: TimeSeriesStore, model: inout ReferenceModel, hours: Int = 5, step: Int64 = 10_000) throws {
        let keys = [SeriesKey(device: "drone-1", measure: "velocity"), SeriesKey(device: "drone-1", measure: "alt"), SeriesKey(device: "drone-2", measure: "velocity")]
        let ids = try keys.map { try store.seriesID(device: $0.device, measure: $0.measure) }
        var rng = StoreTestRandom(seed: 7)
        var batch = PointBatch()
        var values = [20.0, 100.0, 15.0]
        var time = t0
        while time <= t0 + Int64(hours) * 3_600_000 + 20_000 {
            for i in keys.indices {
                values[i] = ((values[i] + Double.random(in: -1...1, using: &rng)) * 100).rounded() / 100
                batch.append(ids[i], time: time, value: values[i])
                model.add(keys[i], time, values[i])
            }
            if batch.count >= 60 {
                let result = try store.append(batch)
                #expect(result.accepted == batch.count)
                batch.removeAll()
            }
            time += step
        }
        try store.append(batch)
    }

    static func expectMatches(_ store: TimeSeriesStore, _ model: ReferenceModel, from: Int64, to: Int64) throws {
        let result = try store.rawPoints(.all, from: from, to: to)
        #expect(!result.truncated)
        let expected = model.keys.filter { !model.points($0, from: from, to: to).times.isEmpty }
        #expect(result.series.map(\.key) == expected)
        for series in result.series {
            let reference = model.points(series.key, from: from, to: to)
            #expect(series.times == reference.times)
            #expect(series.values == reference.values)
        }
    }

    @Test("points come back from heads, memory blocks, files and partitions, before and after reopening")
    func appendAndQuery() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        do {
            let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
            try Self.fill(store, model: &model)
            let stats = store.statistics
            #expect(stats.partitions >= 4)
            #expect(stats.headPoints > 0)
            #expect(stats.sealedPoints + Int64(stats.headPoints) == Int64(model.count))
            try Self.expectMatches(store, model, from: .min, to: .max)
            try Self.expectMatches(store, model, from: Self.t0 + 1_234_567, to: Self.t0 + 7_654_321)
            try Self.expectMatches(store, model, from: Self.t0 + 3_600_000, to: Self.t0 + 3_600_000 + 10_000)
            try store.close()
        }
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: .small())
        try Self.expectMatches(reopened, model, from: .min, to: .max)
        try Self.expectMatches(reopened, model, from: Self.t0 + 999, to: Self.t0 + 4 * 3_600_000 + 1)
    }

    @Test("a limit caps the points returned and reports truncation")
    func limit() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        try Self.fill(store, model: &model, hours: 1)
        let total = model.count
        let all = try store.rawPoints(.all, from: .min, to: .max, limit: total)
        #expect(!all.truncated)
        #expect(all.series.reduce(0) { $0 + $1.times.count } == total)
        let cut = try store.rawPoints(.all, from: .min, to: .max, limit: total / 2 + 3)
        #expect(cut.truncated)
        #expect(cut.series.reduce(0) { $0 + $1.times.count } == total / 2 + 3)
        let first = model.keys[0]
        #expect(cut.series[0].times == model.points(first).times)
        let none = try store.rawPoints(.all, from: .min, to: .max, limit: 0)
        #expect(none.truncated && none.series.isEmpty)
        let one = try store.rawPoints(SeriesSelector(devices: ["drone-2"], measures: ["velocity"]), from: .min, to: .max, limit: 5)
        #expect(one.series.count == 1 && one.series[0].times == Array(model.points(SeriesKey(device: "drone-2", measure: "velocity")).times.prefix(5)))
    }

    @Test("out-of-order points within the window are stored (last write wins); older ones are counted")
    func outOfOrder() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 4))
        let id = try store.seriesID(device: "d", measure: "m")
        var model = ReferenceModel()
        let key = SeriesKey(device: "d", measure: "m")
        func put(_ time: Int64, _ value: Double) throws -> AppendResult {
            var batch = PointBatch()
            batch.append(id, time: time, value: value)
            return try store.append(batch)
        }
        for i in 0..<20 {
            let t = Self.t0 + Int64(i) * 30_000
            #expect(try put(t, Double(i)).accepted == 1)
            model.add(key, t, Double(i))
        }
        let newest = Self.t0 + 19 * 30_000
        // Into the head (after the last seal), into the out-of-order buffer (overlapping sealed blocks),
        // replacing a sealed point, replacing the newest point.
        for (t, v) in [(newest - 10_000, 100.0), (newest - 200_000, 101.0), (newest - 240_000, 102.0), (newest - 270_000, 103.0), (newest, 104.0)] {
            #expect(try put(t, v).accepted == 1)
            model.add(key, t, v)
        }
        // Beyond the 5-minute window.
        let late = try put(newest - 300_001, 1)
        #expect(late.accepted == 0 && late.rejectedLate == 1)
        var batch = PointBatch()
        batch.append(id, time: newest - 400_000, value: 1)
        batch.append(id, time: newest + 1, value: 105)
        batch.append(id, time: newest - 500_000, value: 1)
        let mixed = try store.append(batch)
        #expect(mixed == AppendResult(accepted: 1, rejectedLate: 2))
        model.add(key, newest + 1, 105)
        #expect(store.statistics.rejectedLate == 3)
        try Self.expectMatches(store, model, from: .min, to: .max)
        #expect(store.lastValues(.all).map(\.value) == [105])
        try store.flush()
        try Self.expectMatches(store, model, from: .min, to: .max)
        try store.close()
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 4))
        try Self.expectMatches(reopened, model, from: .min, to: .max)
        #expect(reopened.lastValues(.all).map(\.value) == [105])
    }

    @Test("last values are kept in memory and survive reopening")
    func lastValues() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var model = ReferenceModel()
        do {
            let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
            try Self.fill(store, model: &model, hours: 1)
            _ = try store.seriesID(device: "drone-9", measure: "velocity")  // no points: not listed
            let last = store.lastValues(SeriesSelector(measures: ["velocity"]))
            #expect(last.map(\.key.device) == ["drone-1", "drone-2"])
            for value in last {
                let reference = model.points(value.key)
                #expect(value.time == reference.times.last && value.value == reference.values.last)
            }
            try store.checkpoint()
        }
        let reopened = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let last = reopened.lastValues(.all)
        #expect(last.count == 3)
        for value in last { #expect(value.value == model.points(value.key).values.last) }
    }

    @Test("series, measures and devices are listed in key order")
    func listings() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        _ = try store.seriesID(device: "b", measure: "temp", type: .integer)
        _ = try store.seriesID(device: "a", measure: "temp")
        _ = try store.seriesID(device: "a", measure: "armed", type: .boolean)
        #expect(store.series().map(\.key.description) == ["a/armed", "a/temp", "b/temp"])
        #expect(store.series(SeriesSelector(devices: ["b"])).map(\.type) == [.integer])
        #expect(store.measures() == ["armed", "temp"])
        #expect(store.devices() == ["a", "b"])
        #expect(try store.seriesID(device: "b", measure: "temp") == store.existingSeriesID(device: "b", measure: "temp"))
        #expect(throws: TimeSeriesError.self) { try store.seriesID(device: "", measure: "x") }
    }

    @Test("a batch naming an unknown series is refused whole")
    func unknownSeries() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let id = try store.seriesID(device: "a", measure: "m")
        var batch = PointBatch()
        batch.append(id, time: 1, value: 1)
        batch.append(SeriesID(rawValue: 7), time: 2, value: 2)
        #expect(throws: TimeSeriesError.self) { try store.append(batch) }
        #expect(try store.rawPoints(.all, from: .min, to: .max).series.isEmpty)
    }

    @Test("points too far ahead of the clock are rejected and counted")
    func future() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration.small()
        configuration.maximumFutureSkew = .seconds(60)
        configuration.clock = { 1_000_000 }
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        let id = try store.seriesID(device: "a", measure: "m")
        var batch = PointBatch()
        batch.append(id, time: 1_000_000 + 60_000, value: 1)
        batch.append(id, time: 1_000_000 + 60_001, value: 2)
        #expect(try store.append(batch) == AppendResult(accepted: 1, rejectedFuture: 1))
        #expect(store.statistics.rejectedFuture == 1)
    }

    @Test("a device lagging the fleet keeps its in-order points for partitionCloseDelay; later ones are counted late")
    func laggingDevice() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration()
        configuration.maximumFutureSkew = nil
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)  // 2 h partitions, 1 h close delay
        let fast = try store.seriesID(device: "fast", measure: "m"), slow = try store.seriesID(device: "slow", measure: "m")
        func put(_ id: SeriesID, _ time: Int64) throws -> AppendResult {
            var batch = PointBatch()
            batch.append(id, time: time, value: 1)
            return try store.append(batch)
        }
        #expect(try put(fast, Self.t0 + 2 * 3_600_000 + 30 * 60_000).accepted == 1)  // the fleet is 30 min into the next partition
        #expect(try put(slow, Self.t0 + 2 * 3_600_000 - 60_000).accepted == 1)  // 31 min behind, in its own order: kept
        #expect(try put(fast, Self.t0 + 3 * 3_600_000 + 1).accepted == 1)  // the first partition closes
        #expect(try put(slow, Self.t0 + 2 * 3_600_000 - 30_000) == AppendResult(rejectedLate: 1))
        #expect(try put(slow, Self.t0 + 2 * 3_600_000 + 30_000).accepted == 1)
        #expect(try put(fast, Int64.max).rejectedFuture == 1)
        #expect(try put(fast, Int64.min).rejectedLate == 1)
        #expect(try store.rawPoints(SeriesSelector(devices: ["slow"]), from: .min, to: .max).series[0].times.count == 2)
    }
}
