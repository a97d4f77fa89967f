import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: string series and series tags")
struct StringAndTagSeriesTests {
    static let t0: Int64 = 1_767_571_200_000  // 2026-01-05T00:00:00Z
    static let statuses = ["ok", "low", "critical", "charging", "é", "e\u{301}"]  // the last two: equal as Swift Strings, not as bytes

    /// A status every 20 s for `hours` on two drones, changing now and then; returns the reference.
    static func fillStatuses(_ store: TimeSeriesStore, hours: Int) throws -> [String: [(Int64, String)]] {
        var rng = StoreTestRandom(seed: 11)
        var reference: [String: [(Int64, String)]] = [:]
        let ids = try ["drone-1", "drone-2"].map { try store.seriesID(device: $0, measure: "batteryStatus", type: .string) }
        var batch = PointBatch()
        var current = [0, 1]
        var time = t0
        while time < t0 + Int64(hours) * 3_600_000 {
            for (d, id) in ids.enumerated() {
                if Int.random(in: 0..<10, using: &rng) == 0 { current[d] = Int.random(in: 0..<statuses.count, using: &rng) }
                let text = statuses[current[d]]
                batch.append(id, time: time, value: try #require(try store.stringValue(text)))
                reference["drone-\(d + 1)", default: []].append((time, text))
            }
            if batch.count >= 50 {
                #expect(try store.append(batch).accepted == batch.count)
                batch.removeAll()
            }
            time += 20_000
        }
        try store.append(batch)
        return reference
    }

    static func expectStatuses(_ store: TimeSeriesStore, _ reference: [String: [(Int64, String)]]) throws {
        let raw = try store.rawPoints(SeriesSelector(measures: ["batteryStatus"]), from: t0, to: t0 + 86_400_000)
        #expect(raw.series.map(\.key.device) == ["drone-1", "drone-2"])
        for series in raw.series {
            let expected = reference[series.key.device] ?? []
            #expect(series.type == .string)
            #expect(series.times == expected.map(\.0))
            // Byte-exact: "é" and "e\u{301}" are different strings to the store.
            #expect(series.strings.map { Array($0.utf8) } == expected.map { Array($0.1.utf8) })
        }
        let last = store.lastValues(SeriesSelector(measures: ["batteryStatus"]))
        #expect(last.map { $0.string.map { Array($0.utf8) } } == ["drone-1", "drone-2"].map { reference[$0].map { Array($0.last!.1.utf8) } })
    }

    @Test("string series round-trip through heads, blocks, files, compaction and reopening, byte for byte")
    func roundTrip() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var store: TimeSeriesStore? = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let reference = try Self.fillStatuses(store!, hours: 5)
        try Self.expectStatuses(store!, reference)
        #expect(store!.statistics.stringValues == Self.statuses.count)
        try store!.sync()
        try store!.close()
        store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        try Self.expectStatuses(store!, reference)
        _ = try store!.compact(sealingHeads: true)
        try Self.expectStatuses(store!, reference)
        // A known string keeps its code after reopening; a new one gets the next.
        #expect(try store!.stringValue("ok") == 0)
        #expect(try store!.stringValue("new") == Double(Self.statuses.count))
        try store!.close()
    }

    @Test("count, first and last of strings per bucket equal a brute force, from roll-ups and from raw points; numeric aggregates are NaN")
    func aggregates() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let reference = try Self.fillStatuses(store, hours: 5)
        _ = try store.compact(sealingHeads: false)
        let from = Self.t0 + 90_000, to = Self.t0 + 4 * 3_600_000 + 30_000
        for interval: Int64 in [60_000, 3_600_000, 600_000] {
            var answers: [[AggregateGroup]] = []
            for useRollups in [true, false] {
                let query = AggregateQuery(
                    selector: SeriesSelector(measures: ["batteryStatus"]), from: from, to: to, interval: interval,
                    aggregates: [.count, .first, .last, .avg, .max], useRollups: useRollups)
                let result = try store.aggregate(query)
                answers.append(result.groups)
                for group in result.groups {
                    #expect(group.isString)
                    var expected: [Int64: [(Int64, String)]] = [:]
                    for point in reference[group.device!]! where point.0 >= from && point.0 < to {
                        expected[Rollup.align(point.0, to: interval), default: []].append(point)
                    }
                    #expect(group.buckets.map(\.start) == expected.keys.sorted())
                    for bucket in group.buckets {
                        let points = expected[bucket.start]!
                        #expect(bucket.count == points.count)
                        #expect(bucket.values[0] == Double(points.count))
                        #expect(bucket.strings[1].map { Array($0.utf8) } == Array(points.first!.1.utf8))
                        #expect(bucket.strings[2].map { Array($0.utf8) } == Array(points.last!.1.utf8))
                        #expect(bucket.values[3].isNaN && bucket.values[4].isNaN)
                        #expect(bucket.strings[0] == nil && bucket.strings[3] == nil)
                    }
                }
            }
            let shapes = answers.map { $0.map { $0.buckets.map { [$0.start, Int64($0.count)] } } }
            #expect(shapes[0] == shapes[1])
        }
        // Grouping by measure never mixes a string series with a numeric one of the same name.
        let hour4 = Self.t0 + 4 * 3_600_000  // the open partition
        #expect(try store.append(device: "drone-3", measure: "batteryStatus", time: hour4 + 100_000, value: 42).accepted == 1)
        let merged = try store.aggregate(AggregateQuery(
            selector: SeriesSelector(measures: ["batteryStatus"]), from: hour4, to: hour4 + 3_600_000, interval: 3_600_000,
            aggregates: [.count, .max], grouping: .measure))
        #expect(merged.groups.map(\.isString) == [false, true])
        #expect(merged.groups[0].buckets.map(\.values) == [[1, 42]])
        #expect(merged.groups[1].buckets[0].count == 2 * 180)
    }

    @Test("the string dictionary is bounded: too long or one too many strings are refused and counted, nothing else changes")
    func dictionaryLimits() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration.small()
        configuration.maximumStringValues = 3
        configuration.maximumStringBytes = 5
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        #expect(try store.stringValue("a") == 0)
        #expect(try store.stringValue("toolong") == nil)
        #expect(try store.stringValue("b") == 1)
        #expect(try store.stringValue("c") == 2)
        #expect(try store.stringValue("d") == nil)
        #expect(try store.stringValue("a") == 0)
        let result = try store.append(device: "x", measure: "mode", time: Self.t0, string: "e")
        #expect(result.accepted == 0 && result.rejectedStrings == 1)
        #expect(try store.append(device: "x", measure: "mode", time: Self.t0, string: "b").accepted == 1)
        #expect(store.statistics.rejectedStrings == 3)
        #expect(store.statistics.stringValues == 3)
        // A value that is not a code of the dictionary is refused for the whole batch.
        let id = try store.seriesID(device: "x", measure: "mode", type: .string)
        var batch = PointBatch()
        batch.append(id, time: Self.t0 + 1_000, value: 1)
        batch.append(id, time: Self.t0 + 2_000, value: 7)
        #expect(throws: TimeSeriesError.self) { try store.append(batch) }
        #expect(try store.rawPoints(.all, from: Self.t0, to: Self.t0 + 10_000).series.first?.strings == ["b"])
        // A string for a numeric series, by name, is a clear error.
        try store.append(device: "x", measure: "speed", time: Self.t0, value: 1)
        #expect(throws: TimeSeriesError.self) { try store.append(device: "x", measure: "speed", time: Self.t0, string: "fast") }
    }

    @Test("a WAL point naming a string code whose record never reached the disk is skipped on replay, not misread")
    func replaySkipsUnknownCodes() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 40))
        try store.append(device: "d", measure: "mode", time: Self.t0, string: "hover")
        try store.append(device: "d", measure: "mode", time: Self.t0 + 1_000, string: "cruise")
        try store.sync()
        // A crash that kept the WAL but lost the dictionary's last record: cut the file after "hover".
        let path = directory.path + "/strings"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let crashed = directory.copy()
        defer { crashed.remove() }
        let firstRecord = 8 + 8 + 4 + 1 + 5
        try bytes.prefix(firstRecord).write(to: URL(fileURLWithPath: crashed.path + "/strings"))
        let reopened = try TimeSeriesStore(directory: crashed.path, configuration: .small(headPoints: 40))
        #expect(reopened.recovery.skippedPoints == 1)
        #expect(try reopened.rawPoints(.all, from: Self.t0, to: Self.t0 + 10_000).series.first?.strings == ["hover"])
        #expect(try reopened.stringValue("cruise") == 1)
        try reopened.close()
        try store.close()
    }

    @Test("tags: canonical form sorts, escapes and round-trips; duplicates, empties and oversize are refused")
    func canonicalTags() throws {
        #expect(try SeriesTags.canonical([]) == "")
        #expect(try SeriesTags.canonical([("side", "left"), ("motor", "front")]) == "motor=front,side=left")
        let odd: [(key: String, value: String)] = [("a=b", "c,d"), ("back\\slash", "x=y\\z"), ("ü", "ö")]
        let canonical = try SeriesTags.canonical(odd)
        #expect(canonical == #"a\=b=c\,d,back\\slash=x\=y\\z,ü=ö"#)
        #expect(SeriesTags.pairs(canonical).map { [$0.key, $0.value] } == odd.map { [$0.key, $0.value] })
        #expect(throws: TimeSeriesError.self) { try SeriesTags.canonical([("k", "1"), ("k", "2")]) }
        #expect(throws: TimeSeriesError.self) { try SeriesTags.canonical([("", "1")]) }
        #expect(throws: TimeSeriesError.self) { try SeriesTags.canonical([("k", "")]) }
        #expect(throws: TimeSeriesError.self) { try SeriesTags.canonical([("k", String(repeating: "x", count: 1_100))]) }
        #expect(throws: TimeSeriesError.self) { try SeriesTags.canonical((0...SeriesTags.maximumTags).map { ("k\($0)", "v") }) }
    }

    @Test("tagged series are separate series of one measure, selected by tag, listed in key order, kept across reopening")
    func taggedSeries() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var store: TimeSeriesStore? = try TimeSeriesStore(directory: directory.path, configuration: .small())
        let front = try SeriesTags.canonical([("motor", "front"), ("side", "left")])
        let rear = try SeriesTags.canonical([("motor", "rear"), ("side", "left")])
        for minute in 0..<90 {
            let time = Self.t0 + Int64(minute) * 60_000
            try store!.append(device: "d", measure: "rpm", tags: front, time: time, value: Double(5_000 + minute))
            try store!.append(device: "d", measure: "rpm", tags: rear, time: time, value: Double(4_000 + minute))
            try store!.append(device: "d", measure: "rpm", time: time, value: 1)
        }
        #expect(store!.series().map(\.key.tags) == ["", front, rear])
        for reopen in [false, true] {
            if reopen {
                try store!.close()
                store = try TimeSeriesStore(directory: directory.path, configuration: .small())
            }
            let all = try store!.rawPoints(SeriesSelector(devices: ["d"], measures: ["rpm"]), from: Self.t0, to: Self.t0 + 86_400_000)
            #expect(all.series.map(\.key.tags) == ["", front, rear])
            let rearOnly = try store!.rawPoints(SeriesSelector(measures: ["rpm"], tags: ["motor": "rear"]), from: Self.t0, to: Self.t0 + 86_400_000)
            #expect(rearOnly.series.map(\.key.tags) == [rear])
            #expect(rearOnly.series[0].values == (0..<90).map { Double(4_000 + $0) })
            let left = try store!.aggregate(AggregateQuery(
                selector: SeriesSelector(tags: ["side": "left"]), from: Self.t0, to: Self.t0 + 2 * 3_600_000, interval: 3_600_000, aggregates: [.max]))
            #expect(left.groups.map(\.tags) == [front, rear])
            #expect(left.groups.map { $0.buckets.map(\.values) } == [[[5_059], [5_089]], [[4_059], [4_089]]])
            #expect(store!.lastValues(SeriesSelector(tags: ["motor": "front"])).map(\.value) == [5_089])
            #expect(store!.existingSeriesID(device: "d", measure: "rpm", tags: rear) != nil)
            #expect(store!.existingSeriesID(device: "d", measure: "rpm", tags: "motor=rear") == nil)
        }
        try store!.close()
    }
}
