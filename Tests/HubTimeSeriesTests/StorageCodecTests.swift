import Foundation
import Testing

@testable import HubTimeSeries

@Suite("Time-series store: storage encodings")
struct StorageCodecTests {
    @Test("value columns round-trip every bit pattern, decimals compactly", arguments: 0..<8)
    func valueColumns(seed: Int) throws {
        var rng = StoreTestRandom(seed: UInt64(seed))
        let decimals = (0..<200).map { _ in Double(Int.random(in: -100_000...100_000, using: &rng)) / 100 }
        let specials: [Double] = [.nan, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF), -0.0, 0, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e300, 47.61]
        let random = (0..<100).map { _ in Double(bitPattern: rng.next()) }
        let sums = (0..<100).map { i in (0..<12).reduce(0.0) { total, _ in total + Double(Int.random(in: -50...50, using: &rng)) / 100 } + (i % 17 == 0 ? 1e-17 : 0) }
        for column in [decimals, specials, random, [], [1, 1, 1, 1], decimals.map { $0 / 3 }, sums, [0.1 + 0.2, -0.0, 1e-17, 0.3]] {
            var writer = ByteWriter()
            ValueColumn.encode(column, into: &writer)
            let decoded = try withBytes(writer.bytes) { (raw) throws(TimeSeriesError) -> [Double] in
                var reader = ByteReader(raw)
                return try ValueColumn.decode(count: column.count, from: &reader)
            }
            #expect(decoded.map(\.bitPattern) == column.map(\.bitPattern))
        }
        var writer = ByteWriter()
        ValueColumn.encode(decimals, into: &writer)
        #expect(writer.count < decimals.count * 4, "2-decimal values take a few bytes each")
    }

    @Test("WAL records round-trip every value: decimals compactly, anything else whole")
    func walRecords() throws {
        var rng = StoreTestRandom(seed: 5)
        var points: [(UInt32, Int64, Double)] = []
        let specials: [Double] = [.nan, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF), -0.0, 0, .infinity, -.infinity, .greatestFiniteMagnitude,
                                  .leastNonzeroMagnitude, 47.61, -122.3049, 0.1 + 0.2, 1e15, 9e15, 123_456_789.123456, 1.0 / 3]
        for (i, value) in specials.enumerated() { points.append((UInt32(i), Int64(i) * 1_000, value)) }
        for _ in 0..<500 {
            points.append((UInt32.random(in: 0..<70_000, using: &rng), Int64.random(in: -(1 << 62)...(1 << 62), using: &rng), Double(Int.random(in: -100_000...100_000, using: &rng)) / 100))
            points.append((UInt32.random(in: 0..<70_000, using: &rng), Int64.random(in: 0...100, using: &rng), Double(bitPattern: rng.next())))
        }
        var writer = WALRecordWriter()
        writer.reset(expectedPoints: points.count)
        for (series, time, value) in points { writer.add(series: series, time: time, value: value) }
        writer.finish()
        var decoded: [(UInt32, Int64, Double)] = []
        try withBytes(writer.buffer) { (raw) throws(TimeSeriesError) in
            try WALRecord.forEachPoint(UnsafeRawBufferPointer(rebasing: raw[TimeSeriesWAL.frameSize...])) { series, time, value in decoded.append((series, time, value)) }
        }
        #expect(decoded.count == points.count)
        #expect(zip(decoded, points).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2.bitPattern == $1.2.bitPattern })
        var compact = WALRecordWriter()
        compact.reset(expectedPoints: 1_000)
        for i in 0..<1_000 { compact.add(series: UInt32(i), time: 1_767_571_200_000, value: Double(i % 2_500) / 100) }
        #expect(compact.buffer.count < 1_000 * 5, "telemetry decimals take a few bytes per point")
    }

    @Test("bit packing round-trips every width", arguments: [0, 1, 5, 8, 13, 31, 55, 56, 57, 63, 64])
    func bitPacking(width: Int) throws {
        var rng = StoreTestRandom(seed: UInt64(width))
        for count in [0, 1, 7, 64, 333] {
            let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
            var values = (0..<count).map { _ in rng.next() & mask }
            if count > 0 { values[0] = mask }  // the widest value sets the width
            var writer = ByteWriter()
            BitPacking.append(values, into: &writer)
            #expect(writer.count == 1 + (count * (count == 0 ? 0 : width) + 7) / 8)
            let decoded = try withBytes(writer.bytes) { (raw) throws(TimeSeriesError) -> [UInt64] in
                var reader = ByteReader(raw)
                return try BitPacking.read(count, from: &reader)
            }
            #expect(decoded == values)
        }
    }

    @Test("roll-up chunks round-trip, dirty buckets included")
    func rollupChunks() throws {
        var buckets = Rollup.buckets(times: [0, 1_000, 59_999, 60_000, 200_000, 3_600_000], values: [1.5, 2.25, -3, 4, 5.125, 6], resolution: .minute)
        buckets.insert(.dirty(start: -120_000), at: 0)
        let bytes = RollupChunk.encode(buckets, resolution: .minute, base: buckets[0].start)
        let decoded = try withBytes(bytes) { (raw) throws(TimeSeriesError) in try RollupChunk.decode(raw, resolution: .minute, base: buckets[0].start) }
        #expect(decoded.map(\.start) == buckets.map(\.start))
        #expect(decoded.map(\.dirty) == buckets.map(\.dirty))
        for (a, b) in zip(decoded, buckets) where !a.dirty {
            #expect(a.count == b.count && a.min == b.min && a.max == b.max && a.sum.value == b.sum.value)
            #expect(a.firstTime == b.firstTime && a.firstValue == b.firstValue && a.lastTime == b.lastTime && a.lastValue == b.lastValue)
        }
        // Damage is an error, never a crash.
        for cut in 0..<bytes.count {
            _ = try? withBytes(Array(bytes.prefix(cut))) { (raw) throws(TimeSeriesError) in try RollupChunk.decode(raw, resolution: .minute, base: buckets[0].start) }
        }
    }

    @Test("glob patterns", arguments: [
        ("*", "anything", true), ("drone-*", "drone-00042", true), ("drone-*", "car-1", false), ("*.lat", "position.lat", true),
        ("temp?", "temp1", true), ("temp?", "temp12", false), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("", "", true), ("x", "", false),
    ])
    func glob(pattern: String, text: String, matches: Bool) {
        #expect(Glob.matches(Array(pattern.utf8), Array(text.utf8)) == matches)
    }

    @Test("a damaged partition file is refused with an error")
    func damagedFile() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var writer = try PartitionFileWriter(directory: directory.path, kind: .raw, partitionStart: 0, partitionDuration: 3_600_000, sequence: 1)
        let block = try FloatBlock([(1, 1), (2, 2)])
        try writer.addBlock(series: 3, flags: 0, block: block, minTime: 1, maxTime: 2, lastValue: 2, marker: .zero)
        _ = try writer.finish(closedBoundary: 0)
        try writer.commit()
        let file = try PartitionFile(path: writer.path)
        #expect(file.entries(of: 3) == 0..<1 && file.entries(of: 2).isEmpty && file.entries(of: 4).isEmpty)
        #expect(try file.block(file.entry(at: 0)).points().map(\.time) == [1, 2])
        let original = try Data(contentsOf: URL(fileURLWithPath: writer.path))
        for position in [0, 5, original.count - 1, original.count - 30, original.count - 70] {
            var damaged = original
            damaged[position] ^= 0x40
            try damaged.write(to: URL(fileURLWithPath: writer.path))
            #expect(throws: TimeSeriesError.self) { try PartitionFile(path: writer.path) }
        }
    }
}
