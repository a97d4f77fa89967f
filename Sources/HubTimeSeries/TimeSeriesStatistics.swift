/// A snapshot of the store's size and counters.
public struct TimeSeriesStatistics: Sendable, Hashable {
    /// Series in the dictionary.
    public var series = 0
    /// Points in heads and out-of-order buffers (not yet sealed).
    public var headPoints = 0
    /// Points in sealed blocks (files and memory). A rewritten time counts twice until a merge drops the older copy.
    public var sealedPoints: Int64 = 0
    /// Sealed blocks waiting in memory for the next flush.
    public var pendingBlocks = 0
    /// Their estimated memory.
    public var pendingBytes = 0
    /// Values rejected since open as too late (beyond the out-of-order window, or in a closed partition).
    public var rejectedLate = 0
    /// Values rejected since open as too far in the future.
    public var rejectedFuture = 0
    /// Bytes of raw partition files (blocks, their 1-minute roll-ups until merged into roll-up files, indexes).
    public var blockBytes: Int64 = 0
    /// Bytes of roll-up files.
    public var rollupBytes: Int64 = 0
    /// Bytes of the write-ahead log.
    public var walBytes: Int64 = 0
    /// Write-ahead log segments on disk.
    public var walSegments = 0
    /// Bytes of the series dictionary.
    public var seriesBytes: Int64 = 0
    /// Distinct strings in the string dictionary.
    public var stringValues = 0
    /// Bytes of the string dictionary.
    public var stringBytes: Int64 = 0
    /// String values refused since open (longer than allowed, or the dictionary full).
    public var rejectedStrings = 0
    /// Everything the store keeps on disk.
    public var bytesOnDisk: Int64 { blockBytes + rollupBytes + walBytes + seriesBytes + stringBytes }
    /// Raw partitions on disk.
    public var partitions = 0
    /// Roll-up partitions on disk (both resolutions).
    public var rollupPartitions = 0
    /// Partition files on disk (raw and roll-up).
    public var files = 0
    /// Partitions ending at or before this time (ms) are closed.
    public var closedBoundary: Int64 = .min
    /// The newest time accepted (ms).
    public var highWater: Int64 = .min
}

extension TimeSeriesStore {
    /// The current sizes and counters (one short lock).
    public var statistics: TimeSeriesStatistics {
        var stats = state.withLock { s in
            var stats = TimeSeriesStatistics()
            stats.series = s.table.count
            stats.headPoints = s.counters.headPoints
            stats.sealedPoints = s.counters.sealedPoints
            stats.pendingBlocks = s.pending.count + s.flushing.count
            stats.pendingBytes = s.pendingBytes
            stats.rejectedLate = s.counters.rejectedLate
            stats.rejectedFuture = s.counters.rejectedFuture
            stats.blockBytes = s.catalog.rawBytes
            stats.rollupBytes = s.catalog.rollupBytes
            stats.partitions = s.catalog.raw.count
            stats.rollupPartitions = s.catalog.rollups.reduce(0) { $0 + $1.count }
            stats.files = s.catalog.fileCount
            stats.closedBoundary = s.closedBoundary
            stats.highWater = s.highWater
            return stats
        }
        stats.walBytes = wal.totalBytes
        stats.walSegments = wal.segmentCount
        stats.seriesBytes = seriesFile.size
        stats.stringValues = strings.count
        stats.stringBytes = strings.fileSize
        stats.rejectedStrings = strings.refused
        return stats
    }
}
