/// Doubles as the XOR of each value's bits with the previous value's — Gorilla's scheme (Pelkonen et al.,
/// VLDB 2015), the fallback for values that are not short decimals:
///
/// the first value in 64 bits, then per value `0` (same bits), `10` + the meaningful bits when they fit in
/// the previous window of leading/trailing zeros, else `11` + 5 bits of leading zeros (capped at 31) +
/// 6 bits of length (64 written as 0) + the meaningful bits. Bit patterns are kept as they are: NaN
/// payloads, −0.0 and ±∞ round-trip exactly.
enum XORCodec {
    static func encode(_ values: [Double], into writer: inout BitWriter) {
        var previousBits: UInt64 = 0
        var leading = Int.max, trailing = 0
        for (i, value) in values.enumerated() {
            let bits = value.bitPattern
            defer { previousBits = bits }
            if i == 0 {
                writer.write(bits, bits: 64)
                continue
            }
            let xor = bits ^ previousBits
            if xor == 0 {
                writer.write(bit: false)
                continue
            }
            writeChange(xor, leading: &leading, trailing: &trailing, into: &writer)
        }
    }

    /// A value whose bits differ from the previous one's by `xor` (≠ 0): `1`, then the meaningful bits in
    /// the current leading/trailing-zero window, or a new window (which becomes the current one). Shared
    /// with the version-1 block writer, which used the same scheme.
    static func writeChange(_ xor: UInt64, leading: inout Int, trailing: inout Int, into writer: inout BitWriter) {
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

    /// The fewest bits `count` values take (64 for the first, one per further value).
    static func minimumBits(count: Int) -> Int {
        count == 0 ? 0 : 64 + (count - 1)
    }
}

extension XORCodec {
    /// Reads an `XORCodec` stream one value at a time, without allocating.
    struct Decoder {
        private var started = false
        private var bits: UInt64 = 0
        private var leading = 0
        private var trailing = 0

        init() {}

        @inline(__always)
        mutating func next(_ reader: inout BitReader) throws(TimeSeriesError) -> Double {
            guard started else {
                started = true
                bits = try reader.read(bits: 64)
                return Double(bitPattern: bits)
            }
            if try reader.readBit() {
                if try reader.readBit() {
                    leading = Int(try reader.read(bits: 5))
                    var length = Int(try reader.read(bits: 6))
                    if length == 0 { length = 64 }
                    guard leading + length <= 64 else { throw TimeSeriesError(.corrupt, "a value's bit window is out of range") }
                    trailing = 64 - leading - length
                }
                // `10` before any `11` reuses the empty window: all 64 bits (a writer never does this).
                bits ^= try reader.read(bits: 64 - leading - trailing) << UInt64(trailing)
            }
            return Double(bitPattern: bits)
        }
    }
}
