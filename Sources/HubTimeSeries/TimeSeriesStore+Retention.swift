/// Retention: dropping partitions (raw and roll-up) whose end is older than every matching rule's
/// retention, and trimming the expired series out of partitions some rules still keep.
extension TimeSeriesStore {
    /// Applies retention as of `now` (ms) to closed partitions whose roll-ups are already migrated (run
    /// `maintain`, which compacts first, to cover every closed partition).
    @discardableResult
    public func applyRetention(now: Int64) throws(TimeSeriesError) -> MaintenanceReport {
        try io.withLock { (_) throws(TimeSeriesError) -> MaintenanceReport in
            var report = MaintenanceReport()
            try applyRetentionLocked(now: now, &report)
            return report
        }
    }

    func applyRetentionLocked(now: Int64, _ report: inout MaintenanceReport) throws(TimeSeriesError) {
        let retention = settings.retention
        let (keys, boundary, rawPartitions, rollupPartitions) = state.withLock { s in
            (s.table.keys, s.closedBoundary, s.catalog.raw, s.catalog.rollups)
        }
        var horizonCache: [[Int64]?] = Array(repeating: nil, count: keys.count)
        func horizon(_ series: UInt32, _ level: Int) -> Int64 {
            let index = Int(series)
            guard index < keys.count else { return retention.defaults[level] }
            if let cached = horizonCache[index] { return cached[level] }
            let value = retention.horizons(for: keys[index])
            horizonCache[index] = value
            return value[level]
        }

        // Raw partitions: closed and migrated only (their roll-ups must survive them).
        for (start, files) in rawPartitions.sorted(by: { $0.key < $1.key }) {
            let end = start + settings.partition
            guard end <= boundary, state.withLock({ s in RollupResolution.allCases.allSatisfy { s.catalog.isMigrated(start, $0) } }) else { continue }
            if end <= now - retention.longest(0) {
                try dropRawPartition(start, files)
                report.droppedPartitions += 1
            } else if end <= now - retention.shortest(0) {
                let expired = { (series: UInt32) in end <= now - horizon(series, 0) }
                guard Self.seriesIDs(in: files).contains(where: expired) else { continue }
                try rewritePartition(start, files, writeRollups: [], inlineRollups: false, drop: expired, closedBoundary: boundary)
                report.trimmedPartitions += 1
            }
        }
        // Roll-up partitions.
        for resolution in RollupResolution.allCases {
            let level = Int(resolution.rawValue)
            let duration = settings.rollupPartition[level - 1]
            for (start, files) in rollupPartitions[level - 1].sorted(by: { $0.key < $1.key }) {
                let end = start + duration
                if end <= now - retention.longest(level) {
                    state.withLock { s in s.catalog.rollups[level - 1][start] = nil }
                    for file in files { try StoreFileIO.remove(file.path) }
                    StoreFileIO.removeDirectoryIfEmpty(rollupDirectory(resolution) + "/" + String(start))
                    try StoreFileIO.syncDirectory(rollupDirectory(resolution))
                    report.droppedRollupPartitions += 1
                } else if end <= now - retention.shortest(level) {
                    let expired = { (series: UInt32) in end <= now - horizon(series, level) }
                    var present = Set<UInt32>()
                    for file in files { for index in 0..<file.rollupCount { present.insert(file.rollupEntry(at: index).series) } }
                    guard present.contains(where: expired) else { continue }
                    try rewriteRollupPartition(resolution, start, files, drop: expired, closedBoundary: boundary)
                    report.trimmedRollupPartitions += 1
                }
            }
        }
    }

    private func dropRawPartition(_ start: Int64, _ files: [PartitionFile]) throws(TimeSeriesError) {
        state.withLock { s in
            s.catalog.raw[start] = nil
            s.counters.sealedPoints -= files.reduce(Int64(0)) { $0 + $1.pointCount }
        }
        let directory = blocksDirectory + "/" + String(start)
        for file in files { try StoreFileIO.remove(file.path) }
        StoreFileIO.removeDirectoryIfEmpty(directory)
        try StoreFileIO.syncDirectory(blocksDirectory)
    }
}
