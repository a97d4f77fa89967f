import HubCore

extension TimeSeriesStore {
    /// Every setting of the store, with its default. Checked when the store opens (`.invalidArgument`).
    public struct Configuration: Sendable {
        /// Points a series' head holds before it is sealed into a compressed block: 120 (10 minutes of a
        /// 5-second series). Smaller heads use less memory, larger ones compress better.
        public var headPoints = 120
        /// How far behind a series' newest point a point may arrive and still be stored: 5 minutes. Older
        /// points are rejected and counted. Must be shorter than a partition.
        public var outOfOrderWindow: Duration = .seconds(300)
        /// How long after a partition's end (as seen by the newest point of any series) it is closed: heads
        /// still in it are sealed, points for it are rejected as late, and it can be compacted: 1 hour. A
        /// device whose data lags the fleet's by more than this loses the lagging points (counted).
        /// At least `outOfOrderWindow`.
        public var partitionCloseDelay: Duration = .seconds(3_600)
        /// The time span of a partition (a directory of block files), aligned to the epoch: 2 hours. A whole
        /// number of hours (so roll-up buckets never straddle partitions).
        public var partitionDuration: Duration = .seconds(7_200)
        /// Points per block when compaction rewrites a closed partition: 1,000.
        public var compactedBlockPoints = 1_000
        /// Sealed blocks buffered in memory before they are written as a new file: 32 MiB.
        public var flushBytes = 32 << 20
        /// Size at which the write-ahead log starts a new segment: 64 MiB.
        public var walSegmentBytes = 64 << 20
        /// Write-ahead log size above which the heads that pin the oldest segments are sealed early (so the
        /// log and the replay after a crash stay bounded): 512 MiB.
        public var walMaximumBytes = 512 << 20
        /// Partition span of the 1-minute roll-up files: 1 day (a multiple of `partitionDuration`).
        public var minuteRollupPartition: Duration = .seconds(86_400)
        /// Partition span of the 1-hour roll-up files: 30 days (a multiple of `partitionDuration`).
        public var hourRollupPartition: Duration = .seconds(30 * 86_400)
        /// Retention of raw points and roll-ups (30 days, 90 days, 2 years) and per-series rules.
        public var retention = RetentionPolicy()
        /// Points further ahead of `clock` than this are rejected (counted as `rejectedFuture`): 1 hour.
        /// One device with a wrong clock would otherwise close every partition for everyone. `nil`: no limit
        /// (for replaying old data sets, benchmarks).
        public var maximumFutureSkew: Duration? = .seconds(3_600)
        /// Wall-clock milliseconds, read once per batch for `maximumFutureSkew`.
        public var clock: @Sendable () -> Int64 = { WallClock.nowMillis() }
        /// Distinct string values the store's string dictionary holds at most (over every string series):
        /// 100,000. String measures are for categories (a status, a mode, a firmware version); a new string
        /// beyond the limit is refused and counted. Identifiers that change per message belong in other stores.
        public var maximumStringValues = 100_000
        /// UTF-8 bytes of one string value at most: 1,024 (longer ones are refused and counted).
        public var maximumStringBytes = 1_024
        /// Larger batches are split into write-ahead log records of at most this many points: 262,144.
        public var maximumRecordPoints = 1 << 18

        /// Every setting at its default.
        public init() {}
    }
}
