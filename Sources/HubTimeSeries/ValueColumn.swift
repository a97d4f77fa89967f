/// A compact encoding for a column of doubles (the min/max/sum/first/last columns of roll-up chunks).
///
/// Sensor values are usually short decimals (`47.61`), whose binary forms XOR poorly; so the encoder first
/// looks for a power of ten `s` (1 … 10^6) with `Double(Int64((v * s).rounded())) / s` bit-identical to
/// every `v`, and stores those integers as the first (zigzag varint) and the zigzag deltas of the rest
/// bit-packed at the widest delta's width (mode 1 + scale index). Sums of decimals are decimals up to
/// rounding: mode 0x40 + scale index stores the nearest decimals the same way, then each value's distance
/// from it in units in the last place, bit-packed (usually all 0 or ±1), then the few values that are not
/// near a decimal (at most 1 in 8) whole, by position. Otherwise each value's XOR with
/// the previous one is stored as a control byte (leading zero bytes << 4 | trailing zero bytes) plus the
/// bytes in between (mode 0). Every mode round-trips every bit pattern it accepts exactly.
enum ValueColumn {
    static let scales: [Double] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]
    private static let exactLimit = 9_007_199_254_740_992.0  // 2^53

    static let correctedMode: UInt8 = 0x40
    private static let maximumCorrection: Int64 = 1 << 20

    static func encode(_ values: [Double], into writer: inout ByteWriter) {
        if let index = correctedScale(values) {
            let scale = scales[index]
            writer.append(correctedMode + UInt8(index))
            var integers: [Int64] = [], corrections: [UInt64] = [], exceptions: [Int] = []
            integers.reserveCapacity(values.count)
            corrections.reserveCapacity(values.count)
            for (position, value) in values.enumerated() {
                if let (integer, distance) = corrected(value, scale) {
                    integers.append(integer)
                    corrections.append(zigzag(distance))
                } else {
                    integers.append(integers.last ?? 0)
                    corrections.append(0)
                    exceptions.append(position)
                }
            }
            appendIntegers(integers, into: &writer)
            BitPacking.append(corrections, into: &writer)
            writer.appendVarint(UInt64(exceptions.count))
            var previous = 0
            for position in exceptions {
                writer.appendVarint(UInt64(position - previous))
                writer.appendDouble(values[position])
                previous = position
            }
            return
        }
        if let index = decimalScale(values) {
            let scale = scales[index]
            writer.append(UInt8(1 + index))
            appendIntegers(values.map { Int64(($0 * scale).rounded()) }, into: &writer)
            return
        }
        writer.append(0)
        var previous: UInt64 = 0
        for value in values {
            let xor = value.bitPattern ^ previous
            previous = value.bitPattern
            if xor == 0 {
                writer.append(0x80)
                continue
            }
            let leading = xor.leadingZeroBitCount / 8, trailing = xor.trailingZeroBitCount / 8
            writer.append(UInt8(leading << 4 | trailing))
            var middle = xor >> UInt64(trailing * 8)
            for _ in 0..<(8 - leading - trailing) {
                writer.append(UInt8(truncatingIfNeeded: middle))
                middle >>= 8
            }
        }
    }

    static func decode(count: Int, from reader: inout ByteReader) throws(TimeSeriesError) -> [Double] {
        guard count >= 0, count <= RollupChunk.maximumBuckets else { throw TimeSeriesError(.corrupt, "a roll-up column is longer than allowed") }
        var values: [Double] = []
        values.reserveCapacity(count)
        let mode = try reader.uint8()
        if mode == 0 {
            var previous: UInt64 = 0
            for _ in 0..<count {
                let control = try reader.uint8()
                if control == 0x80 {
                    values.append(Double(bitPattern: previous))
                    continue
                }
                let leading = Int(control >> 4), trailing = Int(control & 0x0F)
                guard leading + trailing < 8 else { throw TimeSeriesError(.corrupt, "a roll-up value's byte window is out of range") }
                var middle: UInt64 = 0
                for i in 0..<(8 - leading - trailing) { middle |= UInt64(try reader.uint8()) << UInt64(8 * i) }
                previous ^= middle << UInt64(trailing * 8)
                values.append(Double(bitPattern: previous))
            }
            return values
        }
        if mode >= correctedMode {
            let index = Int(mode - correctedMode)
            guard index < scales.count else { throw TimeSeriesError(.corrupt, "unknown roll-up value encoding \(mode)") }
            let scale = scales[index]
            let integers = try readIntegers(count, from: &reader)
            let corrections = try BitPacking.read(count, from: &reader)
            for (integer, correction) in zip(integers, corrections) {
                values.append(Double(bitPattern: UInt64(bitPattern: Int64(bitPattern: (Double(integer) / scale).bitPattern) &+ unzigzag(correction))))
            }
            let exceptions = try reader.varint()
            var position = 0
            for _ in 0..<min(exceptions, UInt64(count)) {
                position += Int(clamping: try reader.varint())
                guard position < count else { throw TimeSeriesError(.corrupt, "a roll-up value exception is out of range") }
                values[position] = try reader.double()
            }
            return values
        }
        let index = Int(mode) - 1
        guard index < scales.count else { throw TimeSeriesError(.corrupt, "unknown roll-up value encoding \(mode)") }
        let scale = scales[index]
        for integer in try readIntegers(count, from: &reader) { values.append(Double(integer) / scale) }
        return values
    }

    @inline(__always) private static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    @inline(__always) private static func unzigzag(_ raw: UInt64) -> Int64 { Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }

    /// The first integer as a zigzag varint, the deltas of the rest bit-packed.
    private static func appendIntegers(_ integers: [Int64], into writer: inout ByteWriter) {
        guard let first = integers.first else { return }
        writer.appendZigzag(first)
        var deltas: [UInt64] = []
        deltas.reserveCapacity(integers.count - 1)
        for i in integers.indices.dropFirst() { deltas.append(zigzag(integers[i] &- integers[i - 1])) }
        BitPacking.append(deltas, into: &writer)
    }

    private static func readIntegers(_ count: Int, from reader: inout ByteReader) throws(TimeSeriesError) -> [Int64] {
        guard count > 0 else { return [] }
        var current = try reader.zigzag()
        var integers = [current]
        integers.reserveCapacity(count)
        for delta in try BitPacking.read(count - 1, from: &reader) {
            current &+= unzigzag(delta)
            integers.append(current)
        }
        return integers
    }

    /// `value` as a decimal at `scale` plus a distance in units in the last place, if close enough.
    @inline(__always) private static func corrected(_ value: Double, _ scale: Double) -> (Int64, Int64)? {
        let scaled = (value * scale).rounded()
        guard scaled.magnitude < exactLimit else { return nil }
        let base = Double(Int64(scaled)) / scale
        let distance = Int64(bitPattern: value.bitPattern) &- Int64(bitPattern: base.bitPattern)
        guard base.sign == value.sign, distance.magnitude < UInt64(maximumCorrection) else { return nil }
        return (Int64(scaled), distance)
    }

    /// When no scale is exact for every value but one is within a few units in the last place of nearly
    /// every value (the rest, such as sums that cancel to 1e-17, are stored whole as exceptions), that
    /// scale's index.
    private static func correctedScale(_ values: [Double]) -> Int? {
        guard !values.isEmpty, decimalScale(values) == nil else { return nil }
        let allowed = values.count / 8
        scales: for (index, scale) in scales.enumerated() {
            var misses = 0
            for value in values where corrected(value, scale) == nil {
                misses += 1
                if misses > allowed { continue scales }
            }
            return index
        }
        return nil
    }

    /// The index of the smallest scale that represents every value exactly, if any.
    private static func decimalScale(_ values: [Double]) -> Int? {
        guard !values.isEmpty else { return 0 }
        scales: for (index, scale) in scales.enumerated() {
            for value in values {
                let scaled = (value * scale).rounded()
                guard scaled.magnitude < exactLimit,
                      (Double(Int64(scaled)) / scale).bitPattern == value.bitPattern
                else { continue scales }
            }
            return index
        }
        return nil
    }
}
