/// Version-1 float blocks, as the first release wrote them — still read, no longer written:
///
/// `"MTSB"`, version 1, kind 1, point count (4 bytes, big endian), payload bit count (4 bytes), then one
/// interleaved bit stream: the first time and value in 64 bits each, the first delta in 64 bits, then per
/// point a delta-of-delta D as `0` (D = 0), `10` + 7 bits (−63…64), `110` + 9 bits (−255…256),
/// `1110` + 12 bits (−2047…2048) or `1111` + 64 bits, followed by the value in `XORCodec`'s form.
extension FloatBlock {
    static let legacyVersion: UInt8 = 1
    static let legacyHeaderSize = 14

    /// The point count of a version-1 block, after checking its header against its length.
    static func legacyCount(_ bytes: [UInt8]) throws(TimeSeriesError) -> Int {
        guard bytes.count >= legacyHeaderSize, bytes.starts(with: magic), bytes[4] == legacyVersion else {
            throw TimeSeriesError(.corrupt, "not a time-series block")
        }
        guard bytes[5] == BlockLayout.kindFloat else { throw TimeSeriesError(.corrupt, "block kind \(bytes[5]) is not a float block") }
        let count = Int(BlockFormat.uint32(bytes, at: 6)), bitCount = Int(BlockFormat.uint32(bytes, at: 10))
        guard count <= maximumPoints, (bitCount + 7) / 8 == bytes.count - legacyHeaderSize else {
            throw TimeSeriesError(.corrupt, "a block's sizes do not match its length")
        }
        // Every point after the first takes at least 2 bits (time and value); the first takes 128.
        guard count == 0 || bitCount >= 128 + 64 * min(count - 1, 1) + 2 * max(count - 2, 0) else {
            throw TimeSeriesError(.corrupt, "a block is too short for its point count")
        }
        return count
    }

    /// Calls `body` with every point of a version-1 block whose header `legacyCount` checked.
    static func legacyForEach(_ bytes: [UInt8], count: Int, _ body: (Int64, Double) -> Void) throws(TimeSeriesError) {
        guard count > 0 else { return }
        let bitCount = Int(BlockFormat.uint32(bytes, at: 10))
        try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) in
            let raw = UnsafeRawBufferPointer(buffer)
            var reader = BitReader(raw, from: legacyHeaderSize * 8, to: legacyHeaderSize * 8 + bitCount)
            var values = XORCodec.Decoder()
            var time: Int64 = 0, delta: Int64 = 0
            for i in 0..<count {
                if i == 0 {
                    time = Int64(bitPattern: try reader.read(bits: 64))
                } else {
                    if i == 1 {
                        delta = Int64(bitPattern: try reader.read(bits: 64))
                    } else {
                        delta = delta &+ (try legacyDeltaOfDelta(&reader))
                    }
                    time = time &+ delta
                }
                body(time, try values.next(&reader))
            }
        }
    }

    private static func legacyDeltaOfDelta(_ reader: inout BitReader) throws(TimeSeriesError) -> Int64 {
        guard try reader.readBit() else { return 0 }
        func signed(_ raw: UInt64, bits: Int) -> Int64 {
            // Two's complement in `bits` bits; the ranges are asymmetric (−63…64), so values above the
            // positive limit of the field wrap to negatives except the top one, as written.
            let value = Int64(bitPattern: raw)
            let limit = Int64(1) << Int64(bits - 1)
            return value > limit ? value - (Int64(1) << Int64(bits)) : value
        }
        guard try reader.readBit() else { return signed(try reader.read(bits: 7), bits: 7) }
        guard try reader.readBit() else { return signed(try reader.read(bits: 9), bits: 9) }
        guard try reader.readBit() else { return signed(try reader.read(bits: 12), bits: 12) }
        return Int64(bitPattern: try reader.read(bits: 64))
    }

    /// The version-1 encoding of `points` — kept so tests can make version-1 blocks; the store never
    /// writes it.
    static func legacyBytes(_ points: [(time: Int64, value: Double)]) -> [UInt8] {
        var writer = BitWriter()
        var previousTime: Int64 = 0, previousDelta: Int64 = 0
        var previousBits: UInt64 = 0
        var leading = Int.max, trailing = 0
        for (i, point) in points.enumerated() {
            let bits = point.value.bitPattern
            if i == 0 {
                writer.write(UInt64(bitPattern: point.time), bits: 64)
                writer.write(bits, bits: 64)
            } else {
                let delta = point.time &- previousTime
                if i == 1 {
                    writer.write(UInt64(bitPattern: delta), bits: 64)
                } else {
                    legacyWriteDeltaOfDelta(delta &- previousDelta, into: &writer)
                }
                previousDelta = delta
                let xor = bits ^ previousBits
                if xor == 0 {
                    writer.write(bit: false)
                } else {
                    XORCodec.writeChange(xor, leading: &leading, trailing: &trailing, into: &writer)
                }
            }
            previousTime = point.time
            previousBits = bits
        }
        var bytes = magic + [legacyVersion, BlockLayout.kindFloat]
        BlockFormat.appendUInt32(UInt32(points.count), to: &bytes)
        BlockFormat.appendUInt32(UInt32(writer.bitCount), to: &bytes)
        bytes += writer.finish()
        return bytes
    }

    private static func legacyWriteDeltaOfDelta(_ d: Int64, into writer: inout BitWriter) {
        switch d {
        case 0:
            writer.write(bit: false)
        case -63...64:
            writer.write(0b10, bits: 2)
            writer.write(UInt64(bitPattern: d) & 0x7F, bits: 7)
        case -255...256:
            writer.write(0b110, bits: 3)
            writer.write(UInt64(bitPattern: d) & 0x1FF, bits: 9)
        case -2047...2048:
            writer.write(0b1110, bits: 4)
            writer.write(UInt64(bitPattern: d) & 0xFFF, bits: 12)
        default:
            writer.write(0b1111, bits: 4)
            writer.write(UInt64(bitPattern: d), bits: 64)
        }
    }
}
