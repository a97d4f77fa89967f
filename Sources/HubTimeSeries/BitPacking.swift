/// Fixed-width bit packing (least significant bits first) for roll-up columns: a column of small
/// integers costs its widest value's bit count per entry instead of whole varint bytes.
enum BitPacking {
    /// The bits needed for the largest value.
    static func width(_ values: [UInt64]) -> Int {
        64 - values.reduce(0, |).leadingZeroBitCount
    }

    /// The width (1 byte), then the values packed in that many bits each.
    static func append(_ values: [UInt64], into writer: inout ByteWriter) {
        let width = width(values)
        writer.append(UInt8(width))
        guard width > 0 else { return }
        var buffer: UInt64 = 0
        var used = 0
        for value in values {
            buffer |= value << UInt64(used)
            let taken = min(width, 64 - used)
            used += width
            if used >= 64 {
                writer.appendUInt64(buffer)
                used -= 64
                buffer = taken < width ? value >> UInt64(taken) : 0
            }
        }
        var remaining = used
        while remaining > 0 {
            writer.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            remaining -= 8
        }
    }

    static func read(_ count: Int, from reader: inout ByteReader) throws(TimeSeriesError) -> [UInt64] {
        let width = Int(try reader.uint8())
        guard width <= 64 else { throw TimeSeriesError(.corrupt, "a packed column is wider than 64 bits") }
        guard width > 0 else { return [UInt64](repeating: 0, count: count) }
        let bytes = (count * width + 7) / 8
        let raw = try reader.bytes(bytes)
        var values: [UInt64] = []
        values.reserveCapacity(count)
        let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
        if width <= 56 {
            // A 64-bit window refilled a byte at a time: width ≤ 56 keeps a refill from overflowing it.
            var window: UInt64 = 0
            var bits = 0
            var next = 0
            for _ in 0..<count {
                while bits < width {
                    window |= UInt64(raw[next]) << UInt64(bits)
                    next += 1
                    bits += 8
                }
                values.append(window & mask)
                window >>= UInt64(width)
                bits -= width
            }
            return values
        }
        var bit = 0
        for _ in 0..<count {
            var value: UInt64 = 0
            var got = 0
            while got < width {
                let byte = UInt64(raw[bit >> 3])
                let offset = bit & 7
                let take = min(8 - offset, width - got)
                value |= ((byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
                got += take
                bit += take
            }
            values.append(value & mask)
        }
        return values
    }
}
