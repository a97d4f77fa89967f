/// Compaction: merging a closed partition's files into one with one series' points in consecutive blocks
/// of at most `compactedBlockPoints`, duplicates resolved (last write wins), and exact roll-ups written to
/// the roll-up files. Crash safety: the roll-up files are renamed first (listing the raw partition they
/// cover, which makes the roll-up chunks in its raw files ignored), then the new raw file (listing the files it
/// supersedes, which opening deletes if they are still there), then the old files are removed.
extension TimeSeriesStore {
    /// Writes buffered blocks, checkpoints the WAL if it is large, compacts closed partitions, merges
    /// roll-up files and applies retention as of `now` (ms). Call it periodically (e.g. every minute).
    @discardableResult
    public func maintain(now: Int64) throws(TimeSeriesError) -> MaintenanceReport {
        try io.withLock { (_) throws(TimeSeriesError) -> MaintenanceReport in
            // Start a new segment now and then even at low rates, so old segments can be deleted.
            if wal.currentSegmentBytes > max(1 << 16, settings.walSegmentBytes / 64) { state.withLock { $0.checkpointDue = true } }
            if state.withLock({ $0.checkpointDue }) || wal.totalBytes > settings.walMaximumBytes {
                try checkpointLocked(sealAll: false, roll: true)
            } else {
                try flushLocked()
            }
            var report = MaintenanceReport()
            try compactLocked(&report)
            try applyRetentionLocked(now: now, &report)
            return report
        }
    }

    /// Compacts closed partitions, merges files of open ones and roll-up files (no retention). With
    /// `sealingHeads`, every head is sealed and the WAL emptied first (`checkpoint()`), so everything is in
    /// files (small blocks for now; they are merged later).
    @discardableResult
    public func compact(sealingHeads: Bool = false) throws(TimeSeriesError) -> MaintenanceReport {
        try io.withLock { (_) throws(TimeSeriesError) -> MaintenanceReport in
            if sealingHeads { try checkpointLocked(sealAll: true) } else { try flushLocked() }
            var report = MaintenanceReport()
            try compactLocked(&report)
            return report
        }
    }

    /// Files of one level in an open partition that trigger a merge into the next level.
    static let mergeFanIn = 4

    func compactLocked(_ report: inout MaintenanceReport) throws(TimeSeriesError) {
        let (closed, open, boundary) = state.withLock { s -> ([(Int64, [PartitionFile], [RollupResolution])], [(Int64, [PartitionFile])], Int64) in
            let busy = Self.partitionsInUse(s)
            var closed: [(Int64, [PartitionFile], [RollupResolution])] = []
            var open: [(Int64, [PartitionFile])] = []
            for (start, files) in s.catalog.raw {
                if start + settings.partition <= s.closedBoundary && !busy.contains(start) {
                    let rollups = RollupResolution.allCases.filter { !s.catalog.isMigrated(start, $0) }
                    if files.count > 1 || !rollups.isEmpty { closed.append((start, files, rollups)) }
                } else {
                    // Tiered merging: all files of the lowest level that has `mergeFanIn` of them.
                    let levels = Dictionary(grouping: files, by: \.level)
                    if let level = levels.keys.sorted().first(where: { levels[$0]!.count >= Self.mergeFanIn }) {
                        open.append((start, levels[level]!))
                    }
                }
            }
            return (closed.sorted { $0.0 < $1.0 }, open.sorted { $0.0 < $1.0 }, s.closedBoundary)
        }
        for (start, files, rollups) in closed {
            try rewritePartition(start, files, writeRollups: rollups, inlineRollups: false, drop: { _ in false }, closedBoundary: boundary)
            report.compactedPartitions += 1
        }
        for (start, files) in open {
            try rewritePartition(start, files, writeRollups: [], inlineRollups: true, drop: { _ in false }, closedBoundary: boundary)
            report.mergedFiles += files.count
        }
        for resolution in RollupResolution.allCases {
            let duration = settings.rollupPartition[Int(resolution.rawValue) - 1]
            let due = state.withLock { s in
                s.catalog.rollups[Int(resolution.rawValue) - 1].filter { start, files in
                    files.count >= 8 || (files.count > 1 && start + duration <= s.closedBoundary)
                }.sorted { $0.key < $1.key }
            }
            for (start, files) in due {
                try rewriteRollupPartition(resolution, start, files, drop: { _ in false }, closedBoundary: boundary)
                report.compactedRollupPartitions += 1
            }
        }
    }

    /// Raw partitions that still have points in heads or in memory blocks (not compactable yet).
    static func partitionsInUse(_ s: StoreState) -> Set<Int64> {
        var busy = Set<Int64>()
        for block in s.flushing { busy.insert(block.partitionStart) }
        for block in s.pending { busy.insert(block.partitionStart) }
        for head in s.heads where !head.isEmpty {
            if !head.times.isEmpty { busy.insert(head.partitionStart) }
            for time in head.oooTimes { busy.insert(Rollup.align(time, to: s.settings.partition)) }
        }
        return busy
    }

    /// Merges some files of a raw partition (all of them, or all of one level) into one, each series' points
    /// deduplicated (last write wins) in consecutive blocks of at most `compactedBlockPoints`, without the
    /// series `drop` selects. Writes the exact roll-ups to roll-up files for `writeRollups` (closed
    /// partitions), or keeps 1-minute roll-ups after each block (`inlineRollups`, open partitions: minutes
    /// dirty in an input stay dirty unless every file of the partition is merged).
    func rewritePartition(
        _ start: Int64, _ files: [PartitionFile], writeRollups: [RollupResolution], inlineRollups: Bool, drop: (UInt32) -> Bool, closedBoundary: Int64
    ) throws(TimeSeriesError) {
        let (firstSequence, everyFile) = state.withLock { s in
            defer { s.nextFileSequence += 3 }
            return (s.nextFileSequence, Set((s.catalog.raw[start] ?? []).map(\.sequence)) == Set(files.map(\.sequence)))
        }
        let level = everyFile && !inlineRollups ? files.map(\.level).max()! + 1 : files[0].level + 1
        let partitionDirectory = blocksDirectory + "/" + String(start)
        var raw = try PartitionFileWriter(directory: partitionDirectory, kind: .raw, partitionStart: start, partitionDuration: settings.partition, sequence: firstSequence)
        var rollupWriters: [(RollupResolution, PartitionFileWriter)] = []
        var written: [String] = []
        do throws(TimeSeriesError) {
            for (offset, resolution) in writeRollups.enumerated() {
                let duration = settings.rollupPartition[Int(resolution.rawValue) - 1]
                let rollupStart = Rollup.align(start, to: duration)
                let directory = rollupDirectory(resolution) + "/" + String(rollupStart)
                try StoreFileIO.makeDirectories(directory)
                rollupWriters.append((resolution, try PartitionFileWriter(
                    directory: directory, kind: .rollup, partitionStart: rollupStart, partitionDuration: duration, sequence: firstSequence + 1 + UInt64(offset))))
            }
            for series in Self.seriesIDs(in: files) where !drop(series) {
                var runs: [QuerySnapshot.Run] = []
                var marker = WALMarker.zero
                var dirtyMinutes = Set<Int64>()
                for file in files {
                    for index in file.entries(of: series) {
                        let entry = file.entry(at: index)
                        marker = max(marker, entry.marker)
                        var run = QuerySnapshot.Run(times: [], values: [])
                        try file.block(entry).decode(times: &run.times, values: &run.values)
                        runs.append(run)
                        if inlineRollups, !everyFile {
                            for bucket in try file.blockRollups(entry) where bucket.dirty { dirtyMinutes.insert(bucket.start) }
                        }
                    }
                }
                let merged = QuerySnapshot.merge(runs)
                guard !merged.times.isEmpty else { continue }
                var low = 0
                while low < merged.times.count {
                    let high = min(merged.times.count, low + settings.compactedBlockPoints)
                    let block = try FloatBlock(times: Array(merged.times[low..<high]), values: Array(merged.values[low..<high]))
                    var minutes: [RollupBucket]? = nil
                    if inlineRollups {
                        minutes = Rollup.buckets(times: merged.times, values: merged.values, range: low..<high, resolution: .minute).map {
                            dirtyMinutes.contains($0.start) ? .dirty(start: $0.start) : $0
                        }
                    }
                    try raw.addBlock(
                        series: series, flags: 0, block: block, minTime: merged.times[low], maxTime: merged.times[high - 1], lastValue: merged.values[high - 1],
                        marker: marker, minuteRollups: minutes)
                    low = high
                }
                for index in rollupWriters.indices {
                    let buckets = Rollup.buckets(times: merged.times, values: merged.values, resolution: rollupWriters[index].0)
                    try rollupWriters[index].1.addRollup(series: series, resolution: rollupWriters[index].0, buckets: buckets)
                }
            }
            for index in rollupWriters.indices {
                _ = try rollupWriters[index].1.finish(closedBoundary: closedBoundary, covered: [start])
                try rollupWriters[index].1.commit()
                written.append(rollupWriters[index].1.path)
                try StoreFileIO.syncDirectory(rollupWriters[index].1.path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
            }
            if raw.isEmpty {
                raw.abandon()
            } else {
                _ = try raw.finish(closedBoundary: closedBoundary, supersedes: files.map(\.sequence), precedence: files.map(\.precedence).max()!, level: level)
                try raw.commit()
                written.append(raw.path)
                try StoreFileIO.syncDirectory(partitionDirectory)
            }
        } catch {
            raw.abandon()
            for (_, writer) in rollupWriters where !written.contains(writer.path) { writer.abandon() }
            // Output already renamed is consistent on its own (covered and superseded lists); opening heals.
            throw error
        }
        let newRaw = raw.isEmpty ? nil : try PartitionFile(path: raw.path)
        var newRollups: [(RollupResolution, PartitionFile)] = []
        for (resolution, writer) in rollupWriters { newRollups.append((resolution, try PartitionFile(path: writer.path))) }
        state.withLock { s in
            let removed = files.reduce(Int64(0)) { $0 + $1.pointCount }
            s.counters.sealedPoints += (newRaw?.pointCount ?? 0) - removed
            s.catalog.replace(raw: files, in: start, with: newRaw)
            for (resolution, file) in newRollups { s.catalog.add(rollup: file, resolution: resolution) }
        }
        for file in files { try StoreFileIO.remove(file.path) }
        if state.withLock({ $0.catalog.raw[start] == nil }) { StoreFileIO.removeDirectoryIfEmpty(partitionDirectory) }
        try StoreFileIO.syncDirectory(StoreFileIO.size(of: partitionDirectory) == nil ? blocksDirectory : partitionDirectory)
    }

    /// Merges a roll-up partition's files into one, without the series `drop` selects.
    func rewriteRollupPartition(
        _ resolution: RollupResolution, _ start: Int64, _ files: [PartitionFile], drop: (UInt32) -> Bool, closedBoundary: Int64
    ) throws(TimeSeriesError) {
        let sequence = state.withLock { s in
            defer { s.nextFileSequence += 1 }
            return s.nextFileSequence
        }
        let duration = settings.rollupPartition[Int(resolution.rawValue) - 1]
        let directory = rollupDirectory(resolution) + "/" + String(start)
        var writer = try PartitionFileWriter(directory: directory, kind: .rollup, partitionStart: start, partitionDuration: duration, sequence: sequence)
        do throws(TimeSeriesError) {
            var series = Set<UInt32>()
            for file in files { for index in 0..<file.rollupCount { series.insert(file.rollupEntry(at: index).series) } }
            for id in series.sorted() where !drop(id) {
                var buckets: [Int64: RollupBucket] = [:]
                for file in files {
                    for index in file.rollups(of: id, resolution: resolution) {
                        for bucket in try file.rollupBuckets(file.rollupEntry(at: index)) {
                            if buckets[bucket.start] == nil { buckets[bucket.start] = bucket } else { buckets[bucket.start]!.merge(bucket) }
                        }
                    }
                }
                try writer.addRollup(series: id, resolution: resolution, buckets: buckets.values.sorted { $0.start < $1.start })
            }
            let covered = Array(Set(files.flatMap(\.covered))).sorted()
            _ = try writer.finish(closedBoundary: closedBoundary, supersedes: files.map(\.sequence), covered: covered)
            try writer.commit()
            try StoreFileIO.syncDirectory(directory)
        } catch {
            writer.abandon()
            throw error
        }
        let merged = try PartitionFile(path: writer.path)
        state.withLock { s in
            s.catalog.rollups[Int(resolution.rawValue) - 1][start] = [merged]
        }
        for file in files { try StoreFileIO.remove(file.path) }
        try StoreFileIO.syncDirectory(directory)
    }

    /// The distinct series ids in files' block indexes, ascending.
    static func seriesIDs(in files: [PartitionFile]) -> [UInt32] {
        var ids = Set<UInt32>()
        for file in files {
            var previous: UInt32? = nil
            for index in 0..<file.entryCount {
                let id = file.seriesID(at: index)
                if id != previous { ids.insert(id) }
                previous = id
            }
        }
        return ids.sorted()
    }
}
