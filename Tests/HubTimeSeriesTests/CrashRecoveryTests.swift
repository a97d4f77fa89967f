import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: crash recovery")
struct CrashRecoveryTests {
    static let t0: Int64 = 1_767_571_200_000
    static let keys = (0..<6).map { SeriesKey(device: "drone-\($0 / 2)", measure: $0 % 2 == 0 ? "lat" : "velocity") }

    /// Appends `steps` instants of every series (5 s apart, from `step`), returns the next step.
    static func appendSteps(_ store: TimeSeriesStore, from step: Int, count steps: Int, model: inout ReferenceModel) throws -> Int {
        let ids = try keys.map { try store.seriesID(device: $0.device, measure: $0.measure) }
        var batch = PointBatch()
        for s in step..<(step + steps) {
            let time = t0 + Int64(s) * 5_000
            for (i, key) in keys.enumerated() {
                let value = Double((s * 37 + i * 11) % 1000) / 100
                batch.append(ids[i], time: time, value: value)
                model.add(key, time, value)
            }
        }
        #expect(try store.append(batch).accepted == batch.count)
        return step + steps
    }

    /// `duplicatesMerged`: no rewritten time is still stored twice (rewrites count in `sealedPoints` until a
    /// merge drops the older copy).
    static func expectSame(_ store: TimeSeriesStore, _ model: ReferenceModel, _ context: String = "", duplicatesMerged: Bool = true) throws {
        let result = try store.rawPoints(.all, from: .min, to: .max)
        #expect(result.series.map(\.key) == model.keys, "\(context)")
        for series in result.series {
            let reference = model.points(series.key)
            #expect(series.times == reference.times && series.values == reference.values, "\(context) \(series.key)")
        }
        let stats = store.statistics
        if duplicatesMerged { #expect(stats.sealedPoints + Int64(stats.headPoints) == Int64(model.count), "\(context) nothing counted twice") }
        // Roll-ups must not count a replayed point twice either.
        let query = AggregateQuery(selector: .all, from: t0, to: t0 + 24 * 3_600_000, interval: 3_600_000, aggregates: [.count, .sum, .min, .max, .first, .last])
        var raw = query
        raw.useRollups = false
        let viaRollups = try store.aggregate(query), viaRaw = try store.aggregate(raw)
        #expect(viaRollups.groups.count == viaRaw.groups.count, "\(context)")
        for (a, b) in zip(viaRollups.groups, viaRaw.groups) {
            #expect(BruteForce.same(a.buckets, b.buckets, query.aggregates), "\(context) \(a.device ?? "")/\(a.measure)")
        }
    }

    @Test("every synced point survives a kill at any of many moments (files, WAL replay, checkpoints)")
    func killAfterSync() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try TimeSeriesStore(directory: directory.path, configuration: .small(headPoints: 16, flushBytes: 2_048))
        var model = ReferenceModel()
        var step = 0
        for round in 0..<24 {
            step = try Self.appendSteps(store, from: step, count: 37 + round * 11, model: &model)
            try store.sync()
            if round % 5 == 4 { try store.compact() }
            if round % 3 == 0 {
                let copy = directory.copy(suffix: "kill\(round)")
                defer { copy.remove() }
                let reopened = try TimeSeriesStore(directory: copy.path, configuration: .small(headPoints: 16, flushBytes: 2_048))
                try Self.expectSame(reopened, model, "round \(round)")
                // The reopened store keeps working, and a second crash loses nothing either.
                var extended = model
                _ = try Self.appendSteps(reopened, from: step, count: 50, model: &extended)
                try reopened.sync()
                let second = copy.copy(suffix: "kill\(round)b")
                defer { second.remove() }
                try Self.expectSame(try TimeSeriesStore(directory: second.path, configuration: .small(headPoints: 16, flushBytes: 2_048)), extended, "round \(round) twice")
            }
        }
        #expect(store.statistics.walSegments < 8, "checkpoints delete segments")
    }

    @Test("a torn last WAL record (cut at every byte) loses only that record")
    func tornTail() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = TimeSeriesStore.Configuration.small(headPoints: 4, flushBytes: 1 << 20)
        configuration.walSegmentBytes = 1 << 20
        configuration.walMaximumBytes = 1 << 22
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        var model = ReferenceModel()
        var step = try Self.appendSteps(store, from: 0, count: 30, model: &model)
        try store.flush()  // some points in files (their WAL records stay: replay must skip them)
        step = try Self.appendSteps(store, from: step, count: 3, model: &model)
        try store.sync()
        let segmentName = directory.files(under: "wal").last!
        let segmentPath = directory.path + "/wal/" + segmentName
        let before = try FileManager.default.attributesOfItem(atPath: segmentPath)[.size] as! Int
        var last = model
        _ = try Self.appendSteps(store, from: step, count: 1, model: &last)
        try store.sync()
        let after = try FileManager.default.attributesOfItem(atPath: segmentPath)[.size] as! Int
        #expect(after > before)
        for cut in before...after {
            let copy = directory.copy(suffix: "cut\(cut)")
            defer { copy.remove() }
            let handle = FileHandle(forWritingAtPath: copy.path + "/wal/" + segmentName)!
            try handle.truncate(atOffset: UInt64(cut))
            try handle.close()
            let reopened = try TimeSeriesStore(directory: copy.path, configuration: configuration)
            try Self.expectSame(reopened, cut == after ? last : model, "cut at \(cut)")
            #expect(reopened.recovery.truncatedWALBytes == Int64(cut == after ? 0 : cut - before))
        }
    }

    @Test("leftovers of an interrupted flush or compaction are cleaned up and nothing is counted twice")
    func interruptedCompaction() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = TimeSeriesStore.Configuration.small(headPoints: 16, flushBytes: 2_048)
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        var model = ReferenceModel()
        _ = try Self.appendSteps(store, from: 0, count: 1_600, model: &model)  // 2.2 hours
        try store.sync()
        try store.flush()
        let before = directory.copy(suffix: "before")
        defer { before.remove() }
        #expect(try store.compact().compactedPartitions >= 1)
        try store.sync()
        let after = directory.copy(suffix: "after")
        defer { after.remove() }
        let partition = String(Self.t0)

        // 1. Crash after the new raw file was renamed, before the old ones were removed.
        let leftovers = after.copy(suffix: "leftovers")
        defer { leftovers.remove() }
        for name in before.files(under: "blocks/\(partition)") {
            try? FileManager.default.copyItem(atPath: before.path + "/blocks/\(partition)/" + name, toPath: leftovers.path + "/blocks/\(partition)/" + name)
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: leftovers.path + "/blocks/\(partition)/000000000999.tsf.tmp"))
        let healed = try TimeSeriesStore(directory: leftovers.path, configuration: configuration)
        #expect(healed.recovery.removedFiles >= 2)
        #expect(leftovers.files(under: "blocks/\(partition)").count == 1)
        try Self.expectSame(healed, model, "superseded files left behind")

        // 2. Crash after the roll-up files were renamed, before the raw file was: the partition's raw
        //    roll-up sections must be ignored, and compacting again must not write its roll-ups twice.
        let halfway = before.copy(suffix: "halfway")
        defer { halfway.remove() }
        for name in after.files(under: "rollups") {
            let target = halfway.path + "/rollups/" + name
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: after.path + "/rollups/" + name, toPath: target)
        }
        let resumed = try TimeSeriesStore(directory: halfway.path, configuration: configuration)
        try Self.expectSame(resumed, model, "roll-ups migrated, raw not compacted")
        try resumed.compact()
        try Self.expectSame(resumed, model, "compacted after the interruption")
        #expect(halfway.files(under: "rollups") == after.files(under: "rollups"))
    }

    @Test("after a WAL write failure the next append seals the heads to files and carries on; a retry loses nothing")
    func walWriteFailure() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = TimeSeriesStore.Configuration.small(headPoints: 16, flushBytes: 1 << 20)
        let store = try TimeSeriesStore(directory: directory.path, configuration: configuration)
        var model = ReferenceModel()
        var step = try Self.appendSteps(store, from: 0, count: 20, model: &model)
        try store.sync()
        try store.wal.failNextWriteForTesting()
        var failed = model
        #expect(throws: TimeSeriesError.self) { _ = try Self.appendSteps(store, from: step, count: 5, model: &failed) }
        // The caller retries the same batch: the store recovers first, then takes it (same times: no change).
        step = try Self.appendSteps(store, from: step, count: 5, model: &model)
        step = try Self.appendSteps(store, from: step, count: 5, model: &model)
        try store.sync()
        #expect(store.statistics.walSegments == 1)
        try Self.expectSame(store, model, "recovered", duplicatesMerged: false)
        let copy = directory.copy(suffix: "afterFailure")
        defer { copy.remove() }
        try Self.expectSame(try TimeSeriesStore(directory: copy.path, configuration: configuration), model, "reopened", duplicatesMerged: false)
    }
}
