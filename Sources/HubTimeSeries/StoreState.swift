/// Everything the store mutates, behind its one `Mutex`: the series table, the heads, sealed blocks not yet
/// in files, the file catalog and the counters. Methods here are the pure(ish) core of ingest: no file I/O
/// except through the caller (the WAL append happens in `TimeSeriesStore.append` under the same lock).
struct StoreState: Sendable {
    var settings: StoreSettings
    var table: SeriesTable
    var heads: ContiguousArray<SeriesHead> = []
    /// Partitions that end at or before this are closed: no head has points there and no point is accepted.
    var closedBoundary = Int64.min
    /// The newest accepted time over all series.
    var highWater = Int64.min
    var pending: [SealedBlock] = []
    var pendingBytes = 0
    /// Blocks being written by a flush (still visible to queries until the new file is in the catalog).
    var flushing: [SealedBlock] = []
    var catalog = Catalog()
    var nextFileSequence: UInt64 = 1
    var record = WALRecordWriter()
    var counters = Counters()
    /// Set when the WAL failed: heads may hold points that are not durable; appends are refused.
    var failed = false
    var closed = false
    var checkpointDue = false

    struct Counters: Sendable {
        var rejectedLate = 0
        var rejectedFuture = 0
        var headPoints = 0
        var sealedPoints: Int64 = 0
        var replayedPoints = 0
        var replaySkippedPoints = 0
    }

    init(settings: StoreSettings, table: SeriesTable) {
        self.settings = settings
        self.table = table
        heads = ContiguousArray(repeating: SeriesHead(), count: table.count)
    }

    // MARK: ingest

    /// Applies one point already accepted (or being replayed). `position`/`segment`: the WAL record it is in.
    @inline(__always)
    mutating func insert(_ sid: Int, _ time: Int64, _ value: Double, ordinal: UInt32, position: UInt64, segment: UInt32) throws(TimeSeriesError) {
        if time > highWater { highWater = time }
        if time > heads[sid].maxTime {
            if !heads[sid].times.isEmpty, time >= heads[sid].partitionEnd {
                try seal(sid, marker: WALMarker(position: position, ordinal: ordinal))
            }
            if heads[sid].times.isEmpty {
                if heads[sid].oooTimes.isEmpty { heads[sid].oldestSegment = segment }
                let start = Rollup.align(time, to: settings.partition)
                heads[sid].partitionStart = start
                heads[sid].partitionEnd = start &+ settings.partition
            }
            heads[sid].times.append(time)
            heads[sid].values.append(value)
            heads[sid].maxTime = time
            heads[sid].lastValue = value
            counters.headPoints += 1
            if heads[sid].times.count >= settings.headPoints {
                try seal(sid, marker: WALMarker(position: position, ordinal: ordinal &+ 1))
            }
            return
        }
        // Out of order (or a repeated time): last write wins.
        if time == heads[sid].maxTime { heads[sid].lastValue = value }
        if !heads[sid].times.isEmpty, time > heads[sid].sealedMaxTime, time >= heads[sid].partitionStart {
            if heads[sid].insertIntoHead(time, value) { counters.headPoints += 1 }
            if heads[sid].times.count >= settings.headPoints {
                try seal(sid, marker: WALMarker(position: position, ordinal: ordinal &+ 1))
            }
        } else {
            if heads[sid].isEmpty { heads[sid].oldestSegment = segment }
            if heads[sid].insertIntoBuffer(time, value) { counters.headPoints += 1 }
            if heads[sid].oooTimes.count >= settings.headPoints {
                try seal(sid, marker: WALMarker(position: position, ordinal: ordinal &+ 1))
            }
        }
    }

    /// Whether a point is too late: before the closed boundary, or older than the series' newest point by
    /// more than the window.
    @inline(__always)
    func isLate(_ sid: Int, _ time: Int64) -> Bool {
        if time < closedBoundary { return true }
        let maxTime = heads[sid].maxTime
        return time <= maxTime && UInt64(bitPattern: maxTime &- time) > UInt64(settings.window)
    }

    /// The ordinal of the next point of `sid` in the record at `position`.
    @inline(__always)
    mutating func nextOrdinal(_ sid: Int, position: UInt64) -> UInt32 {
        if heads[sid].ordinalPosition != position {
            heads[sid].ordinalPosition = position
            heads[sid].ordinal = 0
        }
        let ordinal = heads[sid].ordinal
        heads[sid].ordinal &+= 1
        return ordinal
    }

    // MARK: sealing

    /// Seals the series' out-of-order buffer (one block per partition, roll-ups marked dirty) and head (one
    /// block, exact roll-ups) into `pending`.
    mutating func seal(_ sid: Int, marker: WALMarker) throws(TimeSeriesError) {
        let series = UInt32(sid)
        var sealed = 0
        if !heads[sid].oooTimes.isEmpty {
            let count = heads[sid].oooTimes.count
            var low = 0
            while low < count {
                let start = Rollup.align(heads[sid].oooTimes[low], to: settings.partition)
                var high = low + 1
                while high < count, heads[sid].oooTimes[high] < start &+ settings.partition { high += 1 }
                let block = try makeBlock(times: heads[sid].oooTimes, values: heads[sid].oooValues, range: low..<high)
                pending.append(SealedBlock(
                    series: series, partitionStart: start, flags: BlockEntry.outOfOrder, block: block,
                    minTime: heads[sid].oooTimes[low], maxTime: heads[sid].oooTimes[high - 1], lastValue: heads[sid].oooValues[high - 1],
                    marker: marker,
                    minute: Rollup.dirtyBuckets(times: heads[sid].oooTimes, range: low..<high, resolution: .minute)))
                pendingBytes += pending[pending.count - 1].memoryBytes
                heads[sid].sealedMaxTime = max(heads[sid].sealedMaxTime, heads[sid].oooTimes[high - 1])
                low = high
            }
            sealed += count
            heads[sid].oooTimes.removeAll(keepingCapacity: true)
            heads[sid].oooValues.removeAll(keepingCapacity: true)
        }
        let count = heads[sid].times.count
        if count > 0 {
            let block = try makeBlock(times: heads[sid].times, values: heads[sid].values, range: 0..<count)
            pending.append(SealedBlock(
                series: series, partitionStart: heads[sid].partitionStart, flags: 0, block: block,
                minTime: heads[sid].times[0], maxTime: heads[sid].times[count - 1], lastValue: heads[sid].values[count - 1],
                marker: marker,
                minute: Rollup.buckets(times: heads[sid].times, values: heads[sid].values, resolution: .minute)))
            pendingBytes += pending[pending.count - 1].memoryBytes
            heads[sid].sealedMaxTime = max(heads[sid].sealedMaxTime, heads[sid].times[count - 1])
            sealed += count
            heads[sid].times.removeAll(keepingCapacity: true)
            heads[sid].values.removeAll(keepingCapacity: true)
        }
        heads[sid].oldestSegment = .max
        counters.headPoints -= sealed
        counters.sealedPoints += Int64(sealed)
    }

    private func makeBlock(times: [Int64], values: [Double], range: Range<Int>) throws(TimeSeriesError) -> FloatBlock {
        if range == times.indices { return try FloatBlock(times: times, values: values) }
        return try FloatBlock(times: Array(times[range]), values: Array(values[range]))
    }

    /// Moves the closed boundary up to the partition holding `highWater - closeDelay`; every unsealed point
    /// below it is sealed first (with `marker`), so closed partitions get no more data.
    mutating func advanceClosedBoundary(marker: WALMarker) throws(TimeSeriesError) {
        guard highWater > Int64.min / 2 else { return }
        let candidate = Rollup.align(highWater - settings.closeDelay, to: settings.partition)
        guard candidate > closedBoundary else { return }
        closedBoundary = candidate
        for sid in heads.indices where !heads[sid].isEmpty && heads[sid].minUnsealedTime < candidate {
            try seal(sid, marker: marker)
        }
    }

    /// Seals every series with unsealed points whose oldest is in a WAL segment below `segment`.
    mutating func sealHeads(pinningBelow segment: UInt32, marker: WALMarker) throws(TimeSeriesError) {
        for sid in heads.indices where !heads[sid].isEmpty && heads[sid].oldestSegment < segment {
            try seal(sid, marker: marker)
        }
    }

    /// The oldest WAL segment an unsealed point is in (`UInt32.max` when none).
    var oldestPinnedSegment: UInt32 {
        var oldest = UInt32.max
        for sid in heads.indices where heads[sid].oldestSegment < oldest { oldest = heads[sid].oldestSegment }
        return oldest
    }
}
