/// An immutable compressed block of (time, float) points: one series' span of time as the store keeps it.
///
/// Version 2 (written now) stores two streams after a `BlockLayout` header (which records the point
/// count and the time range, readable without decoding via `BlockHeader`):
///
/// - **times** (ms since 1970) minus the block's minimum time, as an `IntegerCodec` stream — in practice
///   delta of delta: a regular clock costs 10 bits per 128 points, jitter a few bits per point, and gaps,
///   equal or backward times and Int64 extremes still round-trip (arithmetic wraps).
/// - **values** with one of two codecs, chosen per block by size (`valueEncoding`):
///   `DecimalCodec` when the values are short decimals (sensor readings; about one byte per value on the
///   tsbench telemetry, booleans and constants well under a bit), else `XORCodec` (Gorilla, any doubles).
///
/// The value-codec byte of the header is 0 for XOR and `0x10 | scale` for decimals. Every block ends in
/// a CRC-32C, checked by `init(bytes:)`, so a flipped byte is an error rather than a wrong value.
/// Version-1 blocks (Gorilla times and values interleaved, no checksum) still decode; see
/// `FloatBlock+Version1.swift`. Bit patterns round-trip exactly in every codec: NaN payloads, −0.0, ±∞.
public struct FloatBlock: Sendable, Hashable {
    /// The first four bytes of every float block.
    public static let magic: [UInt8] = Array("MTSB".utf8)
    /// The version this build writes (it reads 1 and 2).
    public static let version: UInt8 = 2
    /// Points per block at most (a block is one series' span of time; the store rolls before this).
    public static let maximumPoints = 1 << 20

    /// How a block's values are coded.
    public enum ValueEncoding: Sendable, Hashable {
        /// Gorilla XOR of bit patterns: any doubles.
        case xor
        /// Integers n with value = n / 10^scale (scale 0…9), delta-coded and bit-packed; values not exact
        /// at the scale (−0.0, NaN, …) are kept verbatim as exceptions.
        case decimal(scale: Int)
    }

    static let codecXOR: UInt8 = 0x00
    static let codecDecimal: UInt8 = 0x10

    /// The encoded block.
    public let bytes: [UInt8]
    /// Points in the block.
    public let count: Int
    /// The earliest and latest time (nil when empty); also available from the header alone via `BlockHeader`.
    public let timeRange: ClosedRange<Int64>?
    /// The codec the encoder chose for the values (the smaller of the two; version-1 blocks: `.xor`).
    public let valueEncoding: ValueEncoding
    /// Where the streams lie; nil for a version-1 block.
    private let layout: BlockLayout?

    /// Encodes `points` in the order given (a store sorts them by time; any order round-trips).
    public init(_ points: [(time: Int64, value: Double)]) throws(TimeSeriesError) {
        try self.init(times: points.map(\.time), values: points.map(\.value))
    }

    /// Encodes the points `(times[i], values[i])` in the order given; the arrays must be equally long.
    public init(times: [Int64], values: [Double]) throws(TimeSeriesError) {
        try self.init(times: times, values: values, allowingDecimal: true)
    }

    /// `allowingDecimal: false` forces the XOR codec (to compare codecs in tests).
    init(times: [Int64], values: [Double], allowingDecimal: Bool) throws(TimeSeriesError) {
        guard times.count == values.count else {
            throw TimeSeriesError(.invalidArgument, "a block needs as many times as values")
        }
        guard times.count <= Self.maximumPoints else {
            throw TimeSeriesError(.invalidArgument, "a block holds at most \(Self.maximumPoints) points")
        }
        let (timeRange, timeBytes) = IntegerCodec.encodeTimes(times)

        var xorWriter = BitWriter(reservingBytes: values.count * 4 + 16)
        XORCodec.encode(values, into: &xorWriter)
        var valueBytes = xorWriter.finish()
        var encoding = ValueEncoding.xor
        var codec = Self.codecXOR
        if allowingDecimal, let scale = DecimalCodec.chooseScale(values) {
            var writer = BitWriter(reservingBytes: values.count * 2 + 16)
            DecimalCodec.encode(values, scale: scale, into: &writer)
            let decimalBytes = writer.finish()
            if decimalBytes.count <= valueBytes.count {
                valueBytes = decimalBytes
                encoding = .decimal(scale: scale)
                codec = Self.codecDecimal | UInt8(scale)
            }
        }

        var bytes = BlockLayout.header(
            magic: Self.magic, version: Self.version, kind: BlockLayout.kindFloat, codec: codec,
            count: times.count, timeRange: timeRange, timeStreamLength: timeBytes.count)
        bytes.reserveCapacity(bytes.count + timeBytes.count + valueBytes.count + BlockFormat.checksumSize)
        bytes += timeBytes
        bytes += valueBytes
        BlockFormat.seal(&bytes)
        self.bytes = bytes
        self.count = times.count
        self.timeRange = timeRange
        self.valueEncoding = encoding
        self.layout = try BlockLayout(bytes, magic: Self.magic, version: Self.version, kind: BlockLayout.kindFloat, verify: false)
    }

    /// A block read back from its bytes: magic, version, kind, sizes and checksum are checked; a version-1
    /// block (which has no checksum) is decoded once to find its time range.
    public init(bytes: [UInt8]) throws(TimeSeriesError) {
        try self.init(bytes: bytes, verifyingChecksum: true)
    }

    /// `init(bytes:)`, optionally without the checksum pass — for a store that checks its own pages.
    /// Decoding stays safe either way: corrupt payloads throw.
    public init(bytes: [UInt8], verifyingChecksum: Bool) throws(TimeSeriesError) {
        guard bytes.count > 4, bytes.starts(with: Self.magic) else { throw TimeSeriesError(.corrupt, "not a time-series block") }
        if bytes[4] == Self.legacyVersion {
            let count = try Self.legacyCount(bytes)
            var range: ClosedRange<Int64>?
            try Self.legacyForEach(bytes, count: count) { time, _ in
                range = range.map { min($0.lowerBound, time)...max($0.upperBound, time) } ?? time...time
            }
            self.bytes = bytes
            self.count = count
            self.timeRange = range
            self.valueEncoding = .xor
            self.layout = nil
            return
        }
        let layout = try BlockLayout(bytes, magic: Self.magic, version: Self.version, kind: BlockLayout.kindFloat, verify: verifyingChecksum)
        let encoding: ValueEncoding
        let valueBits = (layout.payloadEnd - layout.headerEnd - layout.timeStreamLength) * 8
        switch layout.codec {
        case Self.codecXOR:
            encoding = .xor
            guard valueBits >= XORCodec.minimumBits(count: layout.count) else { throw Self.tooShort }
        case Self.codecDecimal...(Self.codecDecimal + UInt8(DecimalCodec.maximumScale)):
            encoding = .decimal(scale: Int(layout.codec - Self.codecDecimal))
            guard valueBits >= DecimalCodec.minimumBits(count: layout.count) else { throw Self.tooShort }
        default:
            throw TimeSeriesError(.corrupt, "block value codec \(layout.codec) is not known")
        }
        guard layout.timeStreamLength * 8 >= IntegerCodec.minimumBits(count: layout.count) else { throw Self.tooShort }
        self.bytes = bytes
        self.count = layout.count
        self.timeRange = layout.timeRange
        self.valueEncoding = encoding
        self.layout = layout
    }

    /// Bytes of the header, the time stream and the value stream (the checksum is the rest).
    var sectionSizes: (header: Int, times: Int, values: Int) {
        guard let layout else { return (Self.legacyHeaderSize, 0, bytes.count - Self.legacyHeaderSize) }
        return (layout.headerEnd, layout.timeStreamLength, layout.payloadEnd - layout.headerEnd - layout.timeStreamLength)
    }

    private static let tooShort = TimeSeriesError(.corrupt, "a block is too short for its point count")

    /// Every point, in the order encoded.
    public func points() throws(TimeSeriesError) -> [(time: Int64, value: Double)] {
        var points: [(time: Int64, value: Double)] = []
        points.reserveCapacity(count)
        try forEach { points.append(($0, $1)) }
        return points
    }

    /// Appends every time to `times` and every value to `values`, in the order encoded — the fast path
    /// for queries. On error the arrays may hold part of the block.
    public func decode(times: inout [Int64], values: inout [Double]) throws(TimeSeriesError) {
        times.reserveCapacity(times.count + count)
        values.reserveCapacity(values.count + count)
        guard layout != nil else { return try Self.legacyForEach(bytes, count: count) { times.append($0); values.append($1) } }
        try decodeRuns { runTimes, runValues in
            times.append(contentsOf: runTimes)
            values.append(contentsOf: runValues)
        }
    }

    /// Calls `body` with every point, in the order encoded. Throws (after calling `body` for some of the
    /// points before it) if the payload is corrupt.
    public func forEach(_ body: (_ time: Int64, _ value: Double) -> Void) throws(TimeSeriesError) {
        guard layout != nil else { return try Self.legacyForEach(bytes, count: count, body) }
        try decodeRuns { runTimes, runValues in
            for j in 0..<runTimes.count { body(runTimes[j], runValues[j]) }
        }
    }

    /// The decoding core for version 2: all times into one temporary buffer, then the values in runs of
    /// at most `IntegerCodec.groupSize`, each handed to `emit` with its times. Allocates at most that
    /// buffer (none for small blocks): nothing per point.
    private func decodeRuns(_ emit: (UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) -> Void) throws(TimeSeriesError) {
        guard let layout, count > 0, let minimum = timeRange?.lowerBound else { return }
        let count = count, encoding = valueEncoding, run = IntegerCodec.groupSize
        let short = TimeSeriesError(.corrupt, "a block decodes to fewer points than it claims")
        try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) in
            let raw = UnsafeRawBufferPointer(buffer)
            try withUnsafeTemporaryAllocation(of: Int64.self, capacity: count + run) { (integers) throws(TimeSeriesError) in
                try withUnsafeTemporaryAllocation(of: Double.self, capacity: run) { (doubles) throws(TimeSeriesError) in
                    let times = integers.baseAddress!, scratch = times + count, values = doubles.baseAddress!
                    var timeReader = layout.timeReader(raw)
                    try IntegerCodec.Decoder.decode(count: count, into: times, adding: minimum, &timeReader)
                    var valueReader = layout.valueReader(raw)
                    var done = 0
                    switch encoding {
                    case .xor:
                        var decoder = XORCodec.Decoder()
                        while done < count {
                            let n = min(run, count - done)
                            for j in 0..<n { values[j] = try decoder.next(&valueReader) }
                            emit(UnsafeBufferPointer(start: times + done, count: n), UnsafeBufferPointer(start: values, count: n))
                            done += n
                        }
                    case .decimal(let scale):
                        var decoder = try DecimalCodec.Decoder(count: count, scale: scale, reader: &valueReader)
                        while done < count {
                            let n = try decoder.nextBatch(into: values, scratch: scratch, &valueReader)
                            guard n > 0 else { throw short }
                            emit(UnsafeBufferPointer(start: times + done, count: n), UnsafeBufferPointer(start: values, count: n))
                            done += n
                        }
                    }
                }
            }
        }
    }
}
