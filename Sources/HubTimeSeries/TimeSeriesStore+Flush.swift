/// Writing sealed blocks to files and checkpointing the write-ahead log.
extension TimeSeriesStore {
    /// Writes the sealed blocks buffered in memory to new partition files (one per partition touched).
    public func flush() throws(TimeSeriesError) {
        try io.withLock { (_) throws(TimeSeriesError) in try flushLocked() }
    }

    /// Seals every head, writes everything to files and deletes the whole write-ahead log except a fresh
    /// segment (for a fast next open, before a backup, or in tests). Costs small blocks; not needed for
    /// durability.
    public func checkpoint() throws(TimeSeriesError) {
        try io.withLock { (_) throws(TimeSeriesError) in try checkpointLocked(sealAll: true) }
    }

    /// Runs the flush or checkpoint an append found due, unless other file work is in progress.
    func runDueMaintenance() throws(TimeSeriesError) {
        _ = try io.withLockIfAvailable { (_) throws(TimeSeriesError) in
            let (checkpoint, flush) = state.withLock { s in (s.checkpointDue, s.pendingBytes >= settings.flushBytes) }
            if checkpoint || wal.totalBytes > settings.walMaximumBytes {
                try checkpointLocked(sealAll: false)
            } else if flush {
                try flushLocked()
            }
        }
    }

    /// Deletes the WAL segments whose points are all in files. With `sealAll`, every head is sealed first;
    /// otherwise only heads pinning old segments beyond `walMaximumBytes`. Caller holds `io`.
    func checkpointLocked(sealAll: Bool, roll: Bool = false) throws(TimeSeriesError) {
        let cut = try state.withLock { (s) throws(TimeSeriesError) -> UInt32 in
            s.checkpointDue = false
            if roll, !sealAll, wal.currentSegmentBytes > TimeSeriesWAL.headerSize { try wal.roll() }
            if sealAll {
                try wal.roll()
                let marker = WALMarker(position: wal.nextPosition, ordinal: 0)
                try s.sealHeads(pinningBelow: .max, marker: marker)
                return wal.currentSegment
            }
            let segments = wal.segments
            let total = segments.reduce(0) { $0 + $1.size }
            if total > settings.walMaximumBytes {
                // Keep the newest segments that fit in half the limit; seal the heads that pin older ones.
                var kept: Int64 = 0
                var keepFrom = wal.currentSegment
                for segment in segments.reversed() {
                    kept += segment.size
                    if kept > settings.walMaximumBytes / 2 { break }
                    keepFrom = segment.segment
                }
                try s.sealHeads(pinningBelow: keepFrom, marker: WALMarker(position: wal.nextPosition, ordinal: 0))
            }
            return min(s.oldestPinnedSegment, wal.currentSegment)
        }
        try flushLocked()
        try wal.deleteSegments(below: cut)
    }

    /// Writes `pending` as one new file per partition. Caller holds `io` (flushes run one at a time, in order:
    /// the WAL markers in files rely on it).
    func flushLocked() throws(TimeSeriesError) {
        let job = state.withLock { s -> (blocks: [SealedBlock], firstSequence: UInt64, closedBoundary: Int64)? in
            guard !s.pending.isEmpty else { return nil }
            s.flushing = s.pending
            s.pending = []
            s.pendingBytes = 0
            let partitions = Set(s.flushing.map(\.partitionStart)).count
            let first = s.nextFileSequence
            s.nextFileSequence += UInt64(partitions)
            return (s.flushing, first, s.closedBoundary)
        }
        guard let job else { return }
        var files: [PartitionFile] = []
        do {
            try seriesFile.sync()
            try strings.sync()
            try writeBlockFiles(job.blocks, firstSequence: job.firstSequence, closedBoundary: job.closedBoundary, into: &files)
            state.withLock { s in
                for file in files { s.catalog.add(raw: file) }
                s.flushing = []
            }
        } catch {
            // Files already renamed stay (their blocks must not be written twice); the rest go back to pending.
            let written = Set(files.map(\.partitionStart))
            state.withLock { s in
                for file in files { s.catalog.add(raw: file) }
                s.pending = s.flushing.filter { !written.contains($0.partitionStart) } + s.pending
                s.pendingBytes = s.pending.reduce(0) { $0 + $1.memoryBytes }
                s.flushing = []
            }
            throw error
        }
    }

    private func writeBlockFiles(_ blocks: [SealedBlock], firstSequence: UInt64, closedBoundary: Int64, into files: inout [PartitionFile]) throws(TimeSeriesError) {
        var byPartition: [Int64: [Int]] = [:]
        for (index, block) in blocks.enumerated() { byPartition[block.partitionStart, default: []].append(index) }
        var sequence = firstSequence
        var newDirectories = false
        for start in byPartition.keys.sorted() {
            let partitionDirectory = blocksDirectory + "/" + String(start)
            if StoreFileIO.size(of: partitionDirectory) == nil {
                try StoreFileIO.makeDirectories(partitionDirectory)
                newDirectories = true
            }
            var writer = try PartitionFileWriter(directory: partitionDirectory, kind: .raw, partitionStart: start, partitionDuration: settings.partition, sequence: sequence)
            sequence += 1
            do {
                for index in byPartition[start]! {
                    let b = blocks[index]
                    try writer.addBlock(
                        series: b.series, flags: b.flags, block: b.block, minTime: b.minTime, maxTime: b.maxTime, lastValue: b.lastValue, marker: b.marker,
                        minuteRollups: b.minute)
                }
                _ = try writer.finish(closedBoundary: closedBoundary)
                try writer.commit()
            } catch {
                writer.abandon()
                throw error
            }
            files.append(try PartitionFile(path: writer.path))
            try StoreFileIO.syncDirectory(partitionDirectory)
        }
        if newDirectories { try StoreFileIO.syncDirectory(blocksDirectory) }
    }
}
