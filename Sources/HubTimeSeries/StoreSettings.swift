/// The configuration in the units the engine computes with (milliseconds, counts), checked once.
struct StoreSettings: Sendable {
    var headPoints: Int
    var window: Int64
    var closeDelay: Int64
    var partition: Int64
    var compactedBlockPoints: Int
    var flushBytes: Int
    var walSegmentBytes: Int64
    var walMaximumBytes: Int64
    var rollupPartition: [Int64]  // indexed by resolution rawValue - 1
    var maximumFutureSkew: Int64?
    var maximumRecordPoints: Int
    var retention: ResolvedRetention

    init(_ c: TimeSeriesStore.Configuration) throws(TimeSeriesError) {
        func bad(_ why: String) -> TimeSeriesError { TimeSeriesError(.invalidArgument, "configuration: \(why)") }
        headPoints = c.headPoints
        window = c.outOfOrderWindow.milliseconds
        closeDelay = max(c.partitionCloseDelay.milliseconds, window)
        partition = c.partitionDuration.milliseconds
        compactedBlockPoints = c.compactedBlockPoints
        flushBytes = c.flushBytes
        walSegmentBytes = Int64(c.walSegmentBytes)
        walMaximumBytes = Int64(c.walMaximumBytes)
        rollupPartition = [c.minuteRollupPartition.milliseconds, c.hourRollupPartition.milliseconds]
        maximumFutureSkew = c.maximumFutureSkew?.milliseconds
        maximumRecordPoints = c.maximumRecordPoints
        retention = try ResolvedRetention(c.retention)
        guard (2...65_536).contains(headPoints) else { throw bad("headPoints must be 2…65536") }
        guard window >= 0 else { throw bad("the out-of-order window must not be negative") }
        guard partition > 0, partition % 3_600_000 == 0 else { throw bad("the partition duration must be a whole number of hours") }
        guard window < partition else { throw bad("the out-of-order window must be shorter than a partition") }
        guard (headPoints...FloatBlock.maximumPoints).contains(compactedBlockPoints) else { throw bad("compactedBlockPoints must be at least headPoints") }
        guard flushBytes > 0 else { throw bad("flushBytes must be positive") }
        guard (1 << 16...1 << 30).contains(walSegmentBytes) else { throw bad("walSegmentBytes must be 64 KiB…1 GiB") }
        guard walMaximumBytes >= 2 * walSegmentBytes else { throw bad("walMaximumBytes must be at least two segments") }
        for duration in rollupPartition {
            guard duration > 0, duration % partition == 0 else { throw bad("roll-up partition durations must be multiples of the partition duration") }
        }
        guard (1...(1 << 26)).contains(c.maximumStringValues) else { throw bad("maximumStringValues must be 1…67108864") }
        guard (1...StringBlock.maximumValueBytes).contains(c.maximumStringBytes) else { throw bad("maximumStringBytes must be 1…65536") }
        guard (1...(1 << 22)).contains(maximumRecordPoints) else { throw bad("maximumRecordPoints must be 1…4194304") }
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    var milliseconds: Int64 { components.seconds &* 1000 &+ components.attoseconds / 1_000_000_000_000_000 }
}
