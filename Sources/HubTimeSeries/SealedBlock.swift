/// A sealed block waiting in memory to be written to its partition's next file (visible to queries).
struct SealedBlock: Sendable {
    var series: UInt32
    var partitionStart: Int64
    var flags: UInt8
    var block: FloatBlock
    var minTime: Int64
    var maxTime: Int64
    var lastValue: Double
    var marker: WALMarker
    /// 1-minute roll-up buckets of the block's points (dirty markers for an out-of-order block); hours are
    /// merged from them when read.
    var minute: [RollupBucket]

    var memoryBytes: Int { block.bytes.count + minute.count * MemoryLayout<RollupBucket>.stride + 160 }
}
