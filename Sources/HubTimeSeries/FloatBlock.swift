/// An immutable compressed block of (time, float) points — Gorilla's scheme (Pelkonen et al., VLDB 2015):
///
/// - **Timestamps** (ms since 1970) as delta-of-delta: the first in 64 bits, the first delta in 64 bits,
///   then each delta-of-delta D as `0` (D = 0), `10` + 7 bits (−63…64), `110` + 9 bits (−255…256),
///   `1110` + 12 bits (−2047…2048), or `1111` + 64 bits (anything: huge gaps, negative deltas, equal
///   times). Arithmetic wraps, so every Int64 sequence round-trips exactly.
/// - **Values** as the XOR with the previous value's bits: `0` (same value), `10` + the meaningful bits
///   when they fit in the previous window of leading/trailing zeros, else `11` + 5 bits of leading zeros
///   (capped at 31) + 6 bits of length (64 written as 0) + the meaningful bits. Bit patterns are kept as
///   they are: NaN payloads, −0.0 and ±∞ round-trip exactly.
///
/// Layout (version 1): `"MTSB"`, version (1 byte), kind (1 = float), point count (4 bytes, big endian),
/// bit count of the payload (4 bytes), the payload. A reader refuses other magic numbers, versions it does
/// not know and truncated payloads with a `TimeSeriesError` (never a crash).
public struct FloatBlock: Sendable, Hashable {
    public static let magic: [UInt8] = Array("MTSB".utf8)
    public static let version: UInt8 = 1
    static let kindFloat: UInt8 = 1
    static let headerSize = 14
    /// Points per block at most (a block is one series' span of time; the store rolls before this).
    public static let maximumPoints = 1 << 20

    /// The encoded block.
    public let bytes: [UInt8]
    public let count: Int

    /// Encodes `points` in the order given (a store sorts them by time; any order round-trips).
    public init(_ points: [(time: Int64, value: Double)]) throws(TimeSeriesError) {
        guard points.count <= Self.maximumPoints else {
            throw TimeSeriesError(.invalidArgument, "a block holds at most \(Self.maximumPoints) points")
        }
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
                    Self.writeDeltaOfDelta(delta &- previousDelta, into: &writer)
                }
                previousDelta = delta
                let xor = bits ^ previousBits
                if xor == 0 {
                    writer.write(bit: false)
                } else {
                    writer.write(bit: true)
                    let lz = min(xor.leadingZeroBitCount, 31), tz = xor.trailingZeroBitCount
                    if leading != Int.max, lz >= leading, tz >= trailing {
                        writer.write(bit: false)
                        writer.write(xor >> UInt64(trailing), bits: 64 - leading - trailing)
                    } else {
                        writer.write(bit: true)
                        let length = 64 - lz - tz
                        writer.write(UInt64(lz), bits: 5)
                        writer.write(UInt64(length & 63), bits: 6)
                        writer.write(xor >> UInt64(tz), bits: length)
                        leading = lz
                        trailing = tz
                    }
                }
            }
            previousTime = point.time
            previousBits = bits
        }
        var bytes = Self.magic + [Self.version, Self.kindFloat]
        Self.append(UInt32(points.count), to: &bytes)
        Self.append(UInt32(writer.bitCount), to: &bytes)
        bytes += writer.bytes
        self.bytes = bytes
        self.count = points.count
    }

    /// A block read back from its bytes (checked: magic, version, kind, sizes).
    public init(bytes: [UInt8]) throws(TimeSeriesError) {
        guard bytes.count >= Self.headerSize, Array(bytes[0..<4]) == Self.magic else {
            throw TimeSeriesError(.corrupt, "not a time-series block")
        }
        guard bytes[4] == Self.version else {
            throw TimeSeriesError(.unsupportedVersion, "block format version \(bytes[4]) is not known to this build (it reads version \(Self.version))")
        }
        guard bytes[5] == Self.kindFloat else { throw TimeSeriesError(.corrupt, "block kind \(bytes[5]) is not a float block") }
        let count = Int(Self.uint32(bytes, at: 6)), bitCount = Int(Self.uint32(bytes, at: 10))
        guard count <= Self.maximumPoints, (bitCount + 7) / 8 == bytes.count - Self.headerSize else {
            throw TimeSeriesError(.corrupt, "a block's sizes do not match its length")
        }
        self.bytes = bytes
        self.count = count
    }

    /// Every point, in the order encoded.
    public func points() throws(TimeSeriesError) -> [(time: Int64, value: Double)] {
        var reader = BitReader(Array(bytes[Self.headerSize...]), bitCount: Int(Self.uint32(bytes, at: 10)))
        var points: [(time: Int64, value: Double)] = []
        points.reserveCapacity(count)
        var time: Int64 = 0, delta: Int64 = 0
        var bits: UInt64 = 0
        var leading = 0, trailing = 0
        for i in 0..<count {
            if i == 0 {
                time = Int64(bitPattern: try reader.read(bits: 64))
                bits = try reader.read(bits: 64)
            } else {
                if i == 1 {
                    delta = Int64(bitPattern: try reader.read(bits: 64))
                } else {
                    delta = delta &+ (try Self.readDeltaOfDelta(&reader))
                }
                time = time &+ delta
                if try reader.readBit() {
                    if try reader.readBit() {
                        leading = Int(try reader.read(bits: 5))
                        var length = Int(try reader.read(bits: 6))
                        if length == 0 { length = 64 }
                        guard leading + length <= 64 else { throw TimeSeriesError(.corrupt, "a value's bit window is out of range") }
                        trailing = 64 - leading - length
                    }
                    let length = 64 - leading - trailing
                    bits ^= try reader.read(bits: length) << UInt64(trailing)
                }
            }
            points.append((time, Double(bitPattern: bits)))
        }
        return points
    }

    private static func writeDeltaOfDelta(_ d: Int64, into writer: inout BitWriter) {
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

    private static func readDeltaOfDelta(_ reader: inout BitReader) throws(TimeSeriesError) -> Int64 {
        guard try reader.readBit() else { return 0 }
        func signed(_ raw: UInt64, bits: Int) -> Int64 {
            // Two's complement in `bits` bits; the ranges above are asymmetric (−63…64), so values above
            // the positive limit of the field wrap to negatives except the top one, as written.
            let value = Int64(bitPattern: raw)
            let limit = Int64(1) << Int64(bits - 1)
            return value > limit ? value - (Int64(1) << Int64(bits)) : value
        }
        guard try reader.readBit() else { return signed(try reader.read(bits: 7), bits: 7) }
        guard try reader.readBit() else { return signed(try reader.read(bits: 9), bits: 9) }
        guard try reader.readBit() else { return signed(try reader.read(bits: 12), bits: 12) }
        return Int64(bitPattern: try reader.read(bits: 64))
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    private static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
