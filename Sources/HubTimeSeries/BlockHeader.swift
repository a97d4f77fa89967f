/// The facts a block's header states, read without checksumming or decoding the payload — so a query can
/// skip blocks outside its time range, or size its buffers, before paying for them.
public struct BlockHeader: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A `FloatBlock` (magic `MTSB`).
        case float
        /// A `StringBlock` (magic `MTSS`).
        case string
    }

    /// Which block type the bytes are (by their magic).
    public let kind: Kind
    /// The block's format version (`FloatBlock` 1 or 2, `StringBlock` 1).
    public let version: Int
    /// Points in the block.
    public let count: Int
    /// The earliest and latest time in the block; nil when it is empty, and for version-1 float blocks,
    /// which do not record it.
    public let timeRange: ClosedRange<Int64>?

    /// Reads the header at the start of `bytes`; throws for foreign, unknown-version or truncated headers.
    public init(bytes: [UInt8]) throws(TimeSeriesError) {
        if bytes.starts(with: FloatBlock.magic), bytes.count > 4, bytes[4] == FloatBlock.legacyVersion {
            guard bytes.count >= FloatBlock.legacyHeaderSize, bytes[5] == BlockLayout.kindFloat else {
                throw TimeSeriesError(.corrupt, "not a time-series block")
            }
            kind = .float
            version = Int(FloatBlock.legacyVersion)
            count = Int(BlockFormat.uint32(bytes, at: 6))
            guard count <= FloatBlock.maximumPoints else { throw TimeSeriesError(.corrupt, "a block's point count is out of range") }
            timeRange = nil
            return
        }
        let layout: BlockLayout
        if bytes.starts(with: StringBlock.magic) {
            layout = try BlockLayout(bytes, magic: StringBlock.magic, version: StringBlock.version, kind: BlockLayout.kindString, verify: false)
            kind = .string
        } else {
            layout = try BlockLayout(bytes, magic: FloatBlock.magic, version: FloatBlock.version, kind: BlockLayout.kindFloat, verify: false)
            kind = .float
        }
        version = Int(layout.version)
        count = layout.count
        timeRange = layout.timeRange
    }
}

/// The common header of a version-2 float block and a string block, and where the payload lies:
///
/// magic (4 bytes), version, kind (1 = float, 2 = string), value codec (meaning per kind), point count
/// (varint), for a non-empty block the minimum time (zigzag varint) and maximum − minimum (varint), the
/// time stream's length in bytes (varint); then the payload; then a CRC-32C of everything before it
/// (4 bytes, big endian). Varints are LEB128. Everything a reader trusts is checked against the length.
struct BlockLayout: Sendable, Hashable {
    static let kindFloat: UInt8 = 1
    static let kindString: UInt8 = 2

    var version: UInt8
    var codec: UInt8
    var count: Int
    var timeRange: ClosedRange<Int64>?
    var timeStreamLength: Int
    /// Offset just past the header: where the payload begins.
    var headerEnd: Int
    /// Offset of the checksum: where the payload ends.
    var payloadEnd: Int

    /// The header bytes (the payload and checksum follow).
    static func header(
        magic: [UInt8], version: UInt8, kind: UInt8, codec: UInt8, count: Int, timeRange: ClosedRange<Int64>?, timeStreamLength: Int
    ) -> [UInt8] {
        var bytes = magic + [version, kind, codec]
        BlockFormat.appendVarint(UInt64(count), to: &bytes)
        if let timeRange {
            BlockFormat.appendVarint(BlockFormat.zigzag(timeRange.lowerBound), to: &bytes)
            BlockFormat.appendVarint(UInt64(bitPattern: timeRange.upperBound &- timeRange.lowerBound), to: &bytes)
        }
        BlockFormat.appendVarint(UInt64(timeStreamLength), to: &bytes)
        return bytes
    }

    /// The smallest possible block: magic, version, kind, codec, count, stream length, checksum.
    static let minimumSize = 4 + 3 + 1 + 1 + BlockFormat.checksumSize

    /// Reads and checks a header; `verify` also checks the checksum (a full pass over the bytes).
    init(_ bytes: [UInt8], magic: [UInt8], version supported: UInt8, kind: UInt8, verify: Bool) throws(TimeSeriesError) {
        guard bytes.count >= 6, bytes.starts(with: magic) else { throw TimeSeriesError(.corrupt, "not a time-series block") }
        guard bytes[4] == supported else {
            throw TimeSeriesError(
                .unsupportedVersion, "block format version \(bytes[4]) is not known to this build (it reads versions up to \(supported))")
        }
        guard bytes.count >= Self.minimumSize, bytes[5] == kind else { throw TimeSeriesError(.corrupt, "not a time-series block of this kind") }
        if verify, !BlockFormat.isSealed(bytes) { throw TimeSeriesError(.corrupt, "a block's checksum does not match") }
        self.version = supported
        codec = bytes[6]
        payloadEnd = bytes.count - BlockFormat.checksumSize
        var offset = 7
        let count = try BlockFormat.readVarint(bytes, at: &offset, limit: payloadEnd)
        guard count <= UInt64(FloatBlock.maximumPoints) else { throw TimeSeriesError(.corrupt, "a block's point count is out of range") }
        self.count = Int(count)
        if count > 0 {
            let low = BlockFormat.unzigzag(try BlockFormat.readVarint(bytes, at: &offset, limit: payloadEnd))
            let span = try BlockFormat.readVarint(bytes, at: &offset, limit: payloadEnd)
            guard span <= UInt64(bitPattern: Int64.max &- low) else { throw TimeSeriesError(.corrupt, "a block's time range is out of range") }
            timeRange = low...(low &+ Int64(bitPattern: span))
        } else {
            timeRange = nil
        }
        let length = try BlockFormat.readVarint(bytes, at: &offset, limit: payloadEnd)
        guard length <= UInt64(payloadEnd - offset) else { throw TimeSeriesError(.corrupt, "a block's sizes do not match its length") }
        timeStreamLength = Int(length)
        headerEnd = offset
    }
}

extension BlockLayout {
    /// The time stream: after the header and `section` bytes (a string block's dictionary).
    func timeReader(_ raw: UnsafeRawBufferPointer, after section: Int = 0) -> BitReader {
        let start = headerEnd + section
        return BitReader(raw, from: start * 8, to: (start + timeStreamLength) * 8)
    }

    /// The value stream: from the end of the time stream to the checksum.
    func valueReader(_ raw: UnsafeRawBufferPointer, after section: Int = 0) -> BitReader {
        BitReader(raw, from: (headerEnd + section + timeStreamLength) * 8, to: payloadEnd * 8)
    }
}
