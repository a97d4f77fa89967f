/// What a query copies under the store's lock: the selected series with their unsealed points in range,
/// their sealed blocks still in memory, and the file catalog. Everything else (decoding, merging,
/// aggregating) runs on the copy without the lock.
struct QuerySnapshot: Sendable {
    struct Series: Sendable {
        var id: UInt32
        var key: SeriesKey
        var type: ValueType
        var headTimes: [Int64]
        var headValues: [Double]
        var bufferTimes: [Int64]
        var bufferValues: [Double]
        /// Sealed blocks not yet in files (being flushed first, then pending), in seal order.
        var memoryBlocks: [SealedBlock] = []
    }

    var series: [Series]
    var catalog: Catalog
    var partition: Int64
    var rollupPartition: [Int64]
    /// The raw partitions overlapping the query's range (oldest first), and per resolution the roll-up
    /// partitions, resolved once per query.
    var rawPartitions: [(start: Int64, files: [PartitionFile])]
    var rollupPartitions: [[(start: Int64, files: [PartitionFile])]]

    init(series: [Series], catalog: Catalog, partition: Int64, rollupPartition: [Int64], from: Int64, to: Int64) {
        self.series = series
        self.catalog = catalog
        self.partition = partition
        self.rollupPartition = rollupPartition
        rawPartitions = catalog.rawPartitions(overlapping: from, to, duration: partition)
        rollupPartitions = RollupResolution.allCases.map { resolution in
            let duration = rollupPartition[Int(resolution.rawValue) - 1]
            return catalog.rollups[Int(resolution.rawValue) - 1].filter { $0.key < to && $0.key &+ duration > from }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    /// A sorted run of points from one source (block, buffer, head).
    struct Run {
        var times: [Int64]
        var values: [Double]
    }

    /// The points of `series` in [from, to), duplicates resolved by source precedence (files by sequence,
    /// then memory blocks by seal order, then the out-of-order buffer, then the head: last write wins).
    func points(_ series: Series, from: Int64, to: Int64) throws(TimeSeriesError) -> Run {
        var runs: [Run] = []
        for (start, files) in rawPartitions where start < to && start &+ partition > from {
            for file in files {
                for index in file.entries(of: series.id) {
                    let entry = file.entry(at: index)
                    guard entry.minTime < to, entry.maxTime >= from else { continue }
                    try append(file.block(entry), within: entry.minTime >= from && entry.maxTime < to, from: from, to: to, to: &runs)
                }
            }
        }
        for block in series.memoryBlocks where block.minTime < to && block.maxTime >= from {
            try append(block.block, within: block.minTime >= from && block.maxTime < to, from: from, to: to, to: &runs)
        }
        runs.append(Self.slice(series.bufferTimes, series.bufferValues, from: from, to: to))
        runs.append(Self.slice(series.headTimes, series.headValues, from: from, to: to))
        return Self.merge(runs)
    }

    /// Decodes a block into a run (`within`: every point is in range, nothing to filter).
    private func append(_ block: FloatBlock, within: Bool, from: Int64, to: Int64, to runs: inout [Run]) throws(TimeSeriesError) {
        var run = Run(times: [], values: [])
        try block.decode(times: &run.times, values: &run.values)
        if !within {
            let low = Self.lowerBound(run.times, from), high = Self.lowerBound(run.times, to)
            run = Run(times: Array(run.times[low..<high]), values: Array(run.values[low..<high]))
        }
        if !run.times.isEmpty { runs.append(run) }
    }

    static func slice(_ times: [Int64], _ values: [Double], from: Int64, to: Int64) -> Run {
        let low = lowerBound(times, from), high = lowerBound(times, to)
        guard low < high else { return Run(times: [], values: []) }
        return Run(times: Array(times[low..<high]), values: Array(values[low..<high]))
    }

    static func lowerBound(_ times: [Int64], _ time: Int64) -> Int {
        var low = 0, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < time { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Merges runs given in precedence order (later wins on equal times).
    static func merge(_ runs: [Run]) -> Run {
        let runs = runs.enumerated().filter { !$0.element.times.isEmpty }
        guard runs.count > 1 else { return runs.first?.element ?? Run(times: [], values: []) }
        // Common case: the runs do not overlap; concatenate them in time order.
        let ordered = runs.sorted { $0.element.times[0] < $1.element.times[0] }
        var disjoint = true
        for i in 1..<ordered.count where ordered[i - 1].element.times.last! >= ordered[i].element.times[0] {
            disjoint = false
            break
        }
        var result = Run(times: [], values: [])
        let total = runs.reduce(0) { $0 + $1.element.times.count }
        result.times.reserveCapacity(total)
        result.values.reserveCapacity(total)
        if disjoint {
            for (_, run) in ordered {
                result.times += run.times
                result.values += run.values
            }
            return result
        }
        var all: [(time: Int64, precedence: Int, value: Double)] = []
        all.reserveCapacity(total)
        for (precedence, run) in runs {
            for i in run.times.indices { all.append((run.times[i], precedence, run.values[i])) }
        }
        all.sort { ($0.time, $0.precedence) < ($1.time, $1.precedence) }
        for (i, point) in all.enumerated() where i + 1 == all.count || all[i + 1].time != point.time {
            result.times.append(point.time)
            result.values.append(point.value)
        }
        return result
    }

    /// The roll-up buckets of `series` at `resolution` with starts in [from, to), sorted, partial buckets of
    /// one start merged: from the roll-up files, the roll-up chunks after blocks in raw partitions not yet
    /// migrated, and the memory blocks (hours are merged from their minutes).
    func rollups(_ series: Series, _ resolution: RollupResolution, from: Int64, to: Int64) throws(TimeSeriesError) -> [RollupBucket] {
        var lists: [[RollupBucket]] = []
        func add(_ list: [RollupBucket]) {
            guard let first = list.first, let last = list.last, first.start < to, last.start >= from else { return }
            lists.append(first.start >= from && last.start < to ? list : list.filter { $0.start >= from && $0.start < to })
        }
        for (start, files) in rawPartitions where start < to && start &+ partition > from && !catalog.isMigrated(start, resolution) {
            for file in files {
                for index in file.entries(of: series.id) {
                    let entry = file.entry(at: index)
                    guard entry.rollupLength > 0, entry.minTime < to, entry.maxTime >= from else { continue }
                    let minutes = try file.blockRollups(entry)
                    add(resolution == .minute ? minutes : Rollup.hours(fromMinutes: minutes))
                }
            }
        }
        let duration = rollupPartition[Int(resolution.rawValue) - 1]
        for (start, files) in rollupPartitions[Int(resolution.rawValue) - 1] where start < to && start &+ duration > from {
            for file in files {
                for index in file.rollups(of: series.id, resolution: resolution) {
                    let entry = file.rollupEntry(at: index)
                    guard entry.minStart < to, entry.maxStart >= from else { continue }
                    add(try file.rollupBuckets(entry))
                }
            }
        }
        for block in series.memoryBlocks where block.minTime < to && block.maxTime >= from {
            add(resolution == .minute ? block.minute : Rollup.hours(fromMinutes: block.minute))
        }
        if lists.count <= 1 { return lists.first ?? [] }
        var all = lists.flatMap { $0 }
        all.sort { $0.start < $1.start }
        var merged: [RollupBucket] = []
        merged.reserveCapacity(all.count)
        for bucket in all {
            if merged.last?.start == bucket.start { merged[merged.count - 1].merge(bucket) } else { merged.append(bucket) }
        }
        return merged
    }
}
