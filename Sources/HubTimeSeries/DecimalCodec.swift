/// Doubles that are short decimals — sensor readings sent as `"58.08"` — as integers: a value v is
/// written as the integer n with `Double(n) / 10^scale` bit-for-bit equal to v, one scale (0…9) per block,
/// and the integers go through `IntegerCodec` (delta or delta of delta, bit-packed). XOR coding spends
/// ~6.6 bytes on such a value; this spends about one.
///
/// Values that are not exact at the block's scale are **exceptions**, kept verbatim so every bit pattern
/// still round-trips: −0.0 (a reading that rounds to `-0.00` — about 1 % of the tsbench accelerations,
/// so nearly every block has one), NaN, ±∞, and values with too many digits or magnitude beyond 2^53/10^scale.
/// Their integer slot holds 0 for −0.0 and the previous integer otherwise, keeping the residuals small.
///
/// Stream: the exception count E as varbits, E entries (varbits of the gap since the previous
/// exception's index + 1, one bit: 0 = −0.0, 1 = 64 bits of the pattern follow), then the integers.
enum DecimalCodec {
    static let maximumScale = 9
    /// 10^k, exact in a Double for every scale used.
    static let powers: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]
    /// 2^53: integers up to this magnitude are exact in a Double (and far inside Int64).
    static let integerLimit: Double = 9_007_199_254_740_992
    /// Estimated bits an exception costs (its index gap, kind and usually 64 bits), for choosing a scale.
    static let estimatedExceptionBits = 80

    /// The value integer `n` stands for at `scale` — the decoder's arithmetic, which the encoder checks
    /// against, so what is accepted is exactly what comes back. IEEE division of two exact operands is
    /// correctly rounded, so the result is the same on every platform.
    @inline(__always)
    static func value(_ n: Int64, scale: Int) -> Double {
        Double(n) / powers[scale]
    }

    /// The integer that writes `v` exactly at `scale`, or nil (NaN, ±∞, −0.0, too large, too many digits).
    @inline(__always)
    static func integer(_ v: Double, scale: Int) -> Int64? {
        let scaled = v * powers[scale]
        // False for NaN and ±∞ as well, so the conversion below cannot trap.
        guard scaled.magnitude <= integerLimit else { return nil }
        let n = Int64(scaled.rounded())
        guard value(n, scale: scale).bitPattern == v.bitPattern else { return nil }
        return n
    }

    /// The scale to write `values` at, or nil when too few of them are decimals for this codec to pay.
    ///
    /// The smallest scale at which each value is exact is counted; each scale's cost is estimated as
    /// ~3.3 bits per value per decimal digit plus the exceptions it leaves, and the cheapest wins — so one
    /// stray `0.123456789` becomes an exception instead of multiplying every other integer by 10^7.
    static func chooseScale(_ values: [Double]) -> Int? {
        guard !values.isEmpty else { return nil }
        var needing = [Int](repeating: 0, count: maximumScale + 2)  // last slot: exact at no scale
        for v in values {
            var scale = 0
            while scale <= maximumScale, integer(v, scale: scale) == nil { scale += 1 }
            needing[scale] += 1
        }
        var best: Int?, bestCost = Int.max
        var exceptions = values.count
        for scale in 0...maximumScale {
            exceptions -= needing[scale]
            guard exceptions < values.count else { continue }
            let cost = values.count * scale * 10 / 3 + exceptions * estimatedExceptionBits
            if cost < bestCost { (best, bestCost) = (scale, cost) }
        }
        return best
    }

    /// Appends `values` at `scale` (any values: those not exact at it become exceptions).
    static func encode(_ values: [Double], scale: Int, into writer: inout BitWriter) {
        var integers = [Int64](repeating: 0, count: values.count)
        var exceptions: [Int] = []
        var last: Int64 = 0
        for (i, v) in values.enumerated() {
            if let n = integer(v, scale: scale) {
                integers[i] = n
                last = n
            } else {
                integers[i] = v.bitPattern == (-0.0 as Double).bitPattern ? 0 : last
                exceptions.append(i)
            }
        }
        writer.writeVarbits(UInt64(exceptions.count))
        var next = 0
        for i in exceptions {
            writer.writeVarbits(UInt64(i - next))
            let bits = values[i].bitPattern
            if bits == (-0.0 as Double).bitPattern {
                writer.write(bit: false)
            } else {
                writer.write(bit: true)
                writer.write(bits, bits: 64)
            }
            next = i + 1
        }
        IntegerCodec.encode(integers, into: &writer)
    }

    /// The fewest bits a stream of `count` values takes.
    static func minimumBits(count: Int) -> Int {
        count == 0 ? 0 : 7 + IntegerCodec.minimumBits(count: count)
    }
}

extension DecimalCodec {
    /// Reads a stream a batch at a time, without allocating: the exception entries are read by a second
    /// cursor that stays one exception ahead of the integers.
    struct Decoder {
        private let divisor: Double
        private let count: Int
        private var integers: IntegerCodec.Decoder
        private var exceptions: BitReader
        private var exceptionsLeft: Int
        /// Index of the next exception (`Int.max` when none is left) and its bit pattern.
        private var nextException = Int.max
        private var nextExceptionBits: UInt64 = 0
        private var index = 0

        /// Reads the exception count, checks and skips the entries, and leaves `reader` at the integers.
        init(count: Int, scale: Int, reader: inout BitReader) throws(TimeSeriesError) {
            guard (0...DecimalCodec.maximumScale).contains(scale) else { throw TimeSeriesError(.corrupt, "a decimal scale is out of range") }
            divisor = DecimalCodec.powers[scale]
            self.count = count
            exceptionsLeft = 0
            exceptions = reader
            if count > 0 {
                let exceptionCount = try reader.readVarbits()
                guard exceptionCount <= UInt64(count) else { throw TimeSeriesError(.corrupt, "a block has more exceptions than values") }
                exceptionsLeft = Int(exceptionCount)
                exceptions = reader
                var next = 0
                for _ in 0..<exceptionsLeft {
                    next = try Self.readIndex(&reader, from: next, count: count) + 1
                    if try reader.readBit() { try reader.skip(bits: 64) }
                }
            }
            integers = try IntegerCodec.Decoder(count: count, reader: &reader)
            try advance(after: -1)
        }

        /// The next values (see `IntegerCodec.Decoder.nextBatch`) into `out`, using `scratch` for the
        /// integers (each with room for `IntegerCodec.groupSize`); returns how many, 0 at the end.
        mutating func nextBatch(
            into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Int64>, _ reader: inout BitReader
        ) throws(TimeSeriesError) -> Int {
            let n = try integers.nextBatch(into: scratch, &reader)
            let divisor = divisor
            // `DecimalCodec.value`'s arithmetic, which the encoder checked every value against.
            for j in 0..<n { out[j] = Double(scratch[j]) / divisor }
            let start = index
            index += n
            while nextException < index {
                out[nextException - start] = Double(bitPattern: nextExceptionBits)
                try advance(after: nextException)
            }
            return n
        }

        /// Reads the exception after the one at `previous`.
        private mutating func advance(after previous: Int) throws(TimeSeriesError) {
            guard exceptionsLeft > 0 else {
                nextException = Int.max
                return
            }
            exceptionsLeft -= 1
            nextException = try Self.readIndex(&exceptions, from: previous + 1, count: count)
            nextExceptionBits = try exceptions.readBit() ? try exceptions.read(bits: 64) : (-0.0 as Double).bitPattern
        }

        /// An exception index, written as its gap from `first` (the index after the previous exception).
        private static func readIndex(_ reader: inout BitReader, from first: Int, count: Int) throws(TimeSeriesError) -> Int {
            let gap = try reader.readVarbits()
            guard first < count, gap < UInt64(count - first) else { throw TimeSeriesError(.corrupt, "an exception index is out of range") }
            return first + Int(gap)
        }
    }
}
