/// One series' roll-up buckets (one resolution, sorted by start) as stored in a file.
///
/// Layout: bucket count (varint); bucket indexes (start / resolution) as deltas, the first from a base the
/// reader knows (the block's first bucket, the chunk's first start), run-length coded; the dirty
/// buckets: their number, then their positions as deltas; then, run-length coded as (zigzag value, run)
/// pairs, the counts, the first-point offsets from the bucket start and the last-point offsets from the
/// bucket end (regular sampling makes each one run); then the min, max, sum, first and last values as
/// `ValueColumn`s. Dirty buckets carry count 0 and no values.
enum RollupChunk {
    /// Buckets in one chunk at most (a year of minutes is 525,600): bounds what damaged bytes can allocate.
    static let maximumBuckets = 1 << 22

    static func encode(_ buckets: [RollupBucket], resolution: RollupResolution, base: Int64) -> [UInt8] {
        let step = resolution.milliseconds
        var writer = ByteWriter(capacity: 16 + buckets.count * 12)
        writer.appendVarint(UInt64(buckets.count))
        var previousIndex = base / step
        appendRuns(buckets.map { bucket in
            defer { previousIndex = bucket.start / step }
            return bucket.start / step &- previousIndex
        }, into: &writer)
        let dirty = buckets.indices.filter { buckets[$0].dirty }
        writer.appendVarint(UInt64(dirty.count))
        var previousDirty = 0
        for position in dirty {
            writer.appendVarint(UInt64(position - previousDirty))
            previousDirty = position
        }
        let clean = buckets.filter { $0.count > 0 }
        appendRuns(buckets.map(\.count), into: &writer)
        appendRuns(clean.map { $0.firstTime &- $0.start }, into: &writer)
        appendRuns(clean.map { $0.start &+ step &- 1 &- $0.lastTime }, into: &writer)
        ValueColumn.encode(clean.map(\.min), into: &writer)
        ValueColumn.encode(clean.map(\.max), into: &writer)
        ValueColumn.encode(clean.map(\.sum.value), into: &writer)
        ValueColumn.encode(clean.map(\.firstValue), into: &writer)
        ValueColumn.encode(clean.map(\.lastValue), into: &writer)
        return writer.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, resolution: RollupResolution, base: Int64) throws(TimeSeriesError) -> [RollupBucket] {
        let step = resolution.milliseconds
        var reader = ByteReader(bytes)
        let count = Int(clamping: try reader.varint())
        guard count <= maximumBuckets else { throw TimeSeriesError(.corrupt, "a roll-up chunk has more buckets than allowed") }
        var buckets: [RollupBucket] = []
        buckets.reserveCapacity(count)
        var index = base / step
        for delta in try readRuns(count, from: &reader) {
            index &+= delta
            buckets.append(RollupBucket(start: index &* step))
        }
        let dirtyCount = Int(clamping: try reader.varint())
        var position = 0
        for _ in 0..<dirtyCount {
            position += Int(clamping: try reader.varint())
            guard position < count else { throw TimeSeriesError(.corrupt, "a roll-up chunk marks a bucket it does not have") }
            buckets[position].dirty = true
        }
        let counts = try readRuns(count, from: &reader)
        var cleanPositions: [Int] = []
        cleanPositions.reserveCapacity(count)
        for i in 0..<count {
            guard counts[i] >= 0 else { throw TimeSeriesError(.corrupt, "a roll-up bucket has a negative count") }
            buckets[i].count = counts[i]
            if counts[i] > 0 { cleanPositions.append(i) }
        }
        let n = cleanPositions.count
        let firstOffsets = try readRuns(n, from: &reader), lastOffsets = try readRuns(n, from: &reader)
        let mins = try ValueColumn.decode(count: n, from: &reader)
        let maxs = try ValueColumn.decode(count: n, from: &reader)
        let sums = try ValueColumn.decode(count: n, from: &reader)
        let firsts = try ValueColumn.decode(count: n, from: &reader)
        let lasts = try ValueColumn.decode(count: n, from: &reader)
        for (k, i) in cleanPositions.enumerated() {
            buckets[i].firstTime = buckets[i].start &+ firstOffsets[k]
            buckets[i].lastTime = buckets[i].start &+ step &- 1 &- lastOffsets[k]
            buckets[i].min = mins[k]
            buckets[i].max = maxs[k]
            var sum = CompensatedSum()
            sum.add(sums[k])
            buckets[i].sum = sum
            buckets[i].firstValue = firsts[k]
            buckets[i].lastValue = lasts[k]
        }
        return buckets
    }

    private static func appendRuns(_ values: [Int64], into writer: inout ByteWriter) {
        var i = 0
        while i < values.count {
            var j = i + 1
            while j < values.count, values[j] == values[i] { j += 1 }
            writer.appendZigzag(values[i])
            writer.appendVarint(UInt64(j - i))
            i = j
        }
    }

    private static func readRuns(_ count: Int, from reader: inout ByteReader) throws(TimeSeriesError) -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(count)
        while values.count < count {
            let value = try reader.zigzag()
            let run = try reader.varint()
            guard run > 0, run <= UInt64(count - values.count) else { throw TimeSeriesError(.corrupt, "a roll-up run is out of range") }
            values.append(contentsOf: repeatElement(value, count: Int(run)))
        }
        return values
    }
}
