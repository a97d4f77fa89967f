import HubEventLog
/// An immutable file of one time partition: many series' blocks (raw files) or roll-up chunks (roll-up
/// files), with an index in a footer. Written once to a temporary name, fsynced and renamed; read through
/// `mmap`. The index is never loaded into the heap: lookups binary-search the mapped entries.
///
/// Layout (version 1, little endian):
/// ```
/// header   32 B  "MTSF", version, kind (1 raw, 2 roll-up), 2 reserved, partition start (ms),
///                partition duration (ms), file sequence number
/// data           FloatBlock bytes (in raw files each may be followed by its 1-minute roll-up chunk) and,
///                in roll-up files, roll-up chunks
/// metadata       block entries (64 B each, sorted by series, then seal order), roll-up entries (48 B,
///                sorted by resolution, series, order), superseded file sequence numbers (8 B each),
///                covered raw partitions (8 B each; roll-up files written by compaction)
/// footer   72 B  entry count, roll-up entry count, superseded count, covered count (4 B each),
///                metadata offset, closed boundary, point count, highest WAL marker position, precedence
///                (8 B each), level (4 B), CRC-32C of the metadata, CRC-32C of the footer's first 64
///                bytes, "MTSF"
/// ```
/// Precedence orders a partition's files for last-write-wins (a flushed file's is its sequence number, a
/// merged file's the highest of its inputs, so files flushed during a merge still win); level counts
/// merges (0: flushed; merged files of level k make one of level k + 1).
/// ```
/// ```
/// A block entry (64 B): series id (4), flags in the low byte and the WAL marker ordinal (clamped to 24 bits)
/// above (4), point count (4), block length (4), offset (8), min time, max time, the value at max time,
/// the WAL marker position (8 each), the length of the roll-up chunk after the block (4), CRC-32C of the
/// block bytes (4). In raw files of flushed (not yet merged into roll-up files) data each block is followed
/// by its 1-minute roll-up chunk's CRC-32C (4) and the chunk (base: the block's first minute); hours are
/// merged from those minutes.
/// A roll-up entry (roll-up files): series id, resolution, bucket count, length, offset, first and last
/// bucket start, CRC.
final class PartitionFile: Sendable {
    enum Kind: UInt8, Sendable { case raw = 1, rollup = 2 }

    static let magic: UInt32 = 0x4653_544D  // "MTSF" little endian
    static let version: UInt8 = 1
    static let headerSize = 32
    static let footerSize = 72
    static let entrySize = 64
    static let rollupEntrySize = 48
    static let fileExtension = ".tsf"

    let kind: Kind
    let partitionStart: Int64
    let partitionDuration: Int64
    let sequence: UInt64
    let closedBoundary: Int64
    let pointCount: Int64
    let maxMarkerPosition: UInt64
    let precedence: UInt64
    let level: Int
    let supersedes: [UInt64]
    let covered: [Int64]
    let entryCount: Int
    let rollupCount: Int
    private let entriesOffset: Int
    private let rollupsOffset: Int
    private let map: MappedFile

    var path: String { map.path }
    var size: Int { map.count }

    /// Opens and checks a file (magic, version, footer and metadata checksums, offsets in range).
    init(path: String) throws(TimeSeriesError) {
        let map = try MappedFile(path: path)
        self.map = map
        let base = map.base
        func corrupt(_ why: String) -> TimeSeriesError { TimeSeriesError(.corrupt, "\(path): \(why)") }
        guard map.count >= Self.headerSize + Self.footerSize, base.uint32(at: 0) == Self.magic else { throw corrupt("not a time-series partition file") }
        guard base.load(fromByteOffset: 4, as: UInt8.self) == Self.version else {
            throw TimeSeriesError(.unsupportedVersion, "\(path): partition file version \(base.load(fromByteOffset: 4, as: UInt8.self)) is not known to this build")
        }
        guard let kind = Kind(rawValue: base.load(fromByteOffset: 5, as: UInt8.self)) else { throw corrupt("unknown file kind") }
        self.kind = kind
        partitionStart = base.int64(at: 8)
        partitionDuration = base.int64(at: 16)
        sequence = base.uint64(at: 24)
        let footer = map.count - Self.footerSize
        guard base.uint32(at: footer + 68) == Self.magic,
              CRC32C.checksum(UnsafeRawBufferPointer(start: base + footer, count: 64)) == base.uint32(at: footer + 64)
        else { throw corrupt("the footer is damaged") }
        entryCount = Int(base.uint32(at: footer))
        rollupCount = Int(base.uint32(at: footer + 4))
        let supersededCount = Int(base.uint32(at: footer + 8)), coveredCount = Int(base.uint32(at: footer + 12))
        let metadataOffset = base.uint64(at: footer + 16)
        closedBoundary = base.int64(at: footer + 24)
        pointCount = Int64(bitPattern: base.uint64(at: footer + 32))
        maxMarkerPosition = base.uint64(at: footer + 40)
        precedence = base.uint64(at: footer + 48)
        level = Int(base.uint32(at: footer + 56))
        let metadataLength = entryCount * Self.entrySize + rollupCount * Self.rollupEntrySize + (supersededCount + coveredCount) * 8
        guard metadataOffset >= UInt64(Self.headerSize), metadataOffset + UInt64(metadataLength) == UInt64(footer) else { throw corrupt("the index is out of range") }
        let metadata = Int(metadataOffset)
        guard CRC32C.checksum(UnsafeRawBufferPointer(start: base + metadata, count: metadataLength)) == base.uint32(at: footer + 60) else {
            throw corrupt("the index is damaged")
        }
        entriesOffset = metadata
        rollupsOffset = metadata + entryCount * Self.entrySize
        let supersededOffset = rollupsOffset + rollupCount * Self.rollupEntrySize
        supersedes = (0..<supersededCount).map { base.uint64(at: supersededOffset + $0 * 8) }
        covered = (0..<coveredCount).map { base.int64(at: supersededOffset + (supersededCount + $0) * 8) }
        for i in 0..<entryCount {
            let entry = Self.readEntry(base, entriesOffset + i * Self.entrySize)
            guard entry.offset >= Self.headerSize, entry.offset <= metadata - entry.length - entry.rollupLength else { throw corrupt("a block is out of range") }
        }
        for i in 0..<rollupCount {
            let entry = Self.readRollupEntry(base, rollupsOffset + i * Self.rollupEntrySize)
            guard entry.offset >= Self.headerSize, entry.offset <= metadata - entry.length, RollupResolution(rawValue: entry.resolution) != nil else {
                throw corrupt("a roll-up chunk is out of range")
            }
        }
    }

    var partitionEnd: Int64 { partitionStart + partitionDuration }

    // MARK: blocks

    @inline(__always) func seriesID(at index: Int) -> UInt32 { map.base.uint32(at: entriesOffset + index * Self.entrySize) }

    func entry(at index: Int) -> BlockEntry { Self.readEntry(map.base, entriesOffset + index * Self.entrySize) }

    /// The entries of `series` (in seal order).
    func entries(of series: UInt32) -> Range<Int> {
        let lower = lowerBound(count: entryCount) { seriesID(at: $0) < series }
        let upper = lowerBound(count: entryCount) { seriesID(at: $0) <= series }
        return lower..<upper
    }

    /// A block's bytes, checked against the entry's CRC (so `FloatBlock` need not check its own again).
    func block(_ entry: BlockEntry) throws(TimeSeriesError) -> FloatBlock {
        let raw = UnsafeRawBufferPointer(start: map.base + entry.offset, count: entry.length)
        guard CRC32C.checksum(raw) == entry.checksum else { throw TimeSeriesError(.corrupt, "\(path): a block fails its checksum") }
        return try FloatBlock(bytes: Array(raw), verifyingChecksum: false)
    }

    /// The 1-minute roll-up buckets stored after a block (empty when it has none, as in compacted files).
    func blockRollups(_ entry: BlockEntry) throws(TimeSeriesError) -> [RollupBucket] {
        guard entry.rollupLength > 4 else { return [] }
        let start = map.base + entry.offset + entry.length
        let chunk = UnsafeRawBufferPointer(start: start + 4, count: entry.rollupLength - 4)
        guard CRC32C.checksum(chunk) == start.uint32(at: 0) else { throw TimeSeriesError(.corrupt, "\(path): a roll-up chunk fails its checksum") }
        return try RollupChunk.decode(chunk, resolution: .minute, base: Rollup.align(entry.minTime, to: RollupResolution.minute.milliseconds))
    }

    // MARK: roll-ups

    func rollupEntry(at index: Int) -> RollupEntry { Self.readRollupEntry(map.base, rollupsOffset + index * Self.rollupEntrySize) }

    /// The roll-up chunks of `series` at `resolution`.
    func rollups(of series: UInt32, resolution: RollupResolution) -> Range<Int> {
        let key = UInt64(resolution.rawValue) << 32 | UInt64(series)
        func keyAt(_ i: Int) -> UInt64 {
            let offset = rollupsOffset + i * Self.rollupEntrySize
            return UInt64(map.base.load(fromByteOffset: offset + 4, as: UInt8.self)) << 32 | UInt64(map.base.uint32(at: offset))
        }
        let lower = lowerBound(count: rollupCount) { keyAt($0) < key }
        let upper = lowerBound(count: rollupCount) { keyAt($0) <= key }
        return lower..<upper
    }

    func rollupBuckets(_ entry: RollupEntry) throws(TimeSeriesError) -> [RollupBucket] {
        let raw = UnsafeRawBufferPointer(start: map.base + entry.offset, count: entry.length)
        guard CRC32C.checksum(raw) == entry.checksum else { throw TimeSeriesError(.corrupt, "\(path): a roll-up chunk fails its checksum") }
        guard let resolution = RollupResolution(rawValue: entry.resolution) else { throw TimeSeriesError(.corrupt, "\(path): unknown roll-up resolution") }
        return try RollupChunk.decode(raw, resolution: resolution, base: entry.minStart)
    }

    // MARK: decoding

    private func lowerBound(count: Int, _ isBefore: (Int) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(mid) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private static func readEntry(_ base: UnsafeRawPointer, _ offset: Int) -> BlockEntry {
        let packed = base.uint32(at: offset + 4)
        let ordinal = packed >> 8
        return BlockEntry(
            series: base.uint32(at: offset),
            flags: UInt8(truncatingIfNeeded: packed),
            count: Int(base.uint32(at: offset + 8)),
            length: Int(base.uint32(at: offset + 12)),
            offset: Int(clamping: base.uint64(at: offset + 16)),
            minTime: base.int64(at: offset + 24),
            maxTime: base.int64(at: offset + 32),
            lastValue: Double(bitPattern: base.uint64(at: offset + 40)),
            marker: WALMarker(position: base.uint64(at: offset + 48), ordinal: ordinal == BlockEntry.ordinalLimit ? .max : ordinal),
            rollupLength: Int(base.uint32(at: offset + 56)),
            checksum: base.uint32(at: offset + 60))
    }

    private static func readRollupEntry(_ base: UnsafeRawPointer, _ offset: Int) -> RollupEntry {
        RollupEntry(
            series: base.uint32(at: offset),
            resolution: base.load(fromByteOffset: offset + 4, as: UInt8.self),
            bucketCount: Int(base.uint32(at: offset + 8)),
            length: Int(base.uint32(at: offset + 12)),
            offset: Int(clamping: base.uint64(at: offset + 16)),
            minStart: base.int64(at: offset + 24),
            maxStart: base.int64(at: offset + 32),
            checksum: base.uint32(at: offset + 40))
    }
}

/// One block's index entry.
struct BlockEntry: Sendable, Hashable {
    static let outOfOrder: UInt8 = 1
    /// Marker ordinals are stored in 24 bits; this value stands for "the whole record" (`UInt32.max`).
    static let ordinalLimit: UInt32 = 0xFF_FFFF

    var series: UInt32
    var flags: UInt8
    var count: Int
    var length: Int
    var offset: Int
    var minTime: Int64
    var maxTime: Int64
    var lastValue: Double
    var marker: WALMarker
    var rollupLength: Int
    var checksum: UInt32
}

/// One roll-up chunk's index entry.
struct RollupEntry: Sendable, Hashable {
    var series: UInt32
    var resolution: UInt8
    var bucketCount: Int
    var length: Int
    var offset: Int
    var minStart: Int64
    var maxStart: Int64
    var checksum: UInt32
}
