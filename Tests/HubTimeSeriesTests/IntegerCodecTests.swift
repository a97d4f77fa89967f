import Testing

@testable import HubTimeSeries

/// Encodes `values` (at the cheapest order, or at `order`), decodes them back one at a time and in
/// batches; the decoded values (when both paths agree) and the stream's size in bits.
func integerRoundTrip(_ values: [Int64], order: Int? = nil) throws -> (values: [Int64], bits: Int) {
    var writer = BitWriter()
    IntegerCodec.encode(values, order: order, into: &writer)
    let bits = writer.bitCount
    let bytes = writer.finish()
    let single = try decodeIntegers(bytes, count: values.count, batched: false)
    let batched = try decodeIntegers(bytes, count: values.count, batched: true)
    return (single == batched ? single : [], bits)
}

/// Decodes a stream by `IntegerCodec.Decoder.next` or by `IntegerCodec.Decoder.decode` (batches).
func decodeIntegers(_ bytes: [UInt8], count: Int, batched: Bool) throws(TimeSeriesError) -> [Int64] {
    try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) -> [Int64] in
        var reader = BitReader(UnsafeRawBufferPointer(buffer))
        if batched {
            var decoded = [Int64](repeating: 0, count: count)
            try decoded.withUnsafeMutableBufferPointer { (out) throws(TimeSeriesError) in
                // A sentinel slot past the end catches a batch that writes too far.
                try withUnsafeTemporaryAllocation(of: Int64.self, capacity: count + 1) { (scratch) throws(TimeSeriesError) in
                    scratch[count] = 0x5EED
                    try IntegerCodec.Decoder.decode(count: count, into: scratch.baseAddress!, adding: 0, &reader)
                    #expect(scratch[count] == 0x5EED)
                    for i in 0..<count { out[i] = scratch[i] }
                }
            }
            return decoded
        }
        var decoded: [Int64] = []
        var decoder = try IntegerCodec.Decoder(count: count, reader: &reader)
        for _ in 0..<count { decoded.append(try decoder.next(&reader)) }
        return decoded
    }
}

@Suite("Integer streams: orders, group modes, limits")
struct IntegerCodecTests {
    static let extremes: [Int64] = [.min, .max, 0, -1, 1, .min + 1, .max - 1, 1 << 53, -(1 << 53), 1 << 62, -(1 << 62)]

    @Test("any Int64 sequence round-trips at every order", arguments: 0..<40)
    func random(_ seed: Int) throws {
        var rng = Seeded(state: 1000 + UInt64(seed))
        let count = [0, 1, 2, 3, 127, 128, 129, 130, 257, Int.random(in: 0...600, using: &rng)][seed % 10]
        var value = Int64.random(in: .min ... .max, using: &rng)
        let values = (0..<count).map { _ -> Int64 in
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: value = Self.extremes.randomElement(using: &rng)!
            case 1: value = Int64.random(in: .min ... .max, using: &rng)
            case 2: break
            default: value &+= Int64.random(in: -100...100, using: &rng)
            }
            return value
        }
        for order in [nil, 0, 1, 2] {
            #expect(try integerRoundTrip(values, order: order).values == values, "order \(String(describing: order))")
        }
    }

    @Test("every sequence of extremes up to length 3 round-trips at every order")
    func extremeTriples() throws {
        for a in Self.extremes {
            #expect(try integerRoundTrip([a]).values == [a])
            for b in Self.extremes {
                for c in Self.extremes {
                    for order in 0...2 {
                        #expect(try integerRoundTrip([a, b], order: order).values == [a, b])
                        #expect(try integerRoundTrip([a, b, c], order: order).values == [a, b, c])
                    }
                }
            }
        }
    }

    /// Residual groups that each mode should win, at order 0 (the residuals are the values).
    static func groups() -> [(IntegerCodec.Mode, [Int64])] {
        var rng = Seeded(state: 77)
        let n = IntegerCodec.groupSize
        var patched = (0..<n).map { _ in Int64.random(in: -50...50, using: &rng) }
        patched[3] = 1_000_000
        patched[90] = -(1 << 40)
        patched[n - 1] = Int64.min
        var positions = [Int64](repeating: 0, count: n)
        positions[0] = 1
        positions[64] = -1
        positions[n - 1] = Int64.max
        return [
            (.packed, (0..<n).map { _ in Int64.random(in: -50...50, using: &rng) }),
            (.unsigned, (0..<n).map { _ in Int64.random(in: 0...1, using: &rng) }),
            (.offset, (0..<n).map { _ in Int64.random(in: 1_000_000...1_000_100, using: &rng) }),
            (.sparse, (0..<n).map { _ in Bool.random(using: &rng) ? 0 : Int64.random(in: -3...3, using: &rng) }),
            (.positions, positions),
            (.patched, patched),
            (.packed, [Int64](repeating: 0, count: n)),
        ]
    }

    @Test("each group mode is chosen where it is cheapest and round-trips, alone, after others and cut short")
    func modes() throws {
        let groups = Self.groups()
        for (mode, group) in groups {
            #expect(IntegerCodec.plan(group, 0..<group.count).mode == mode, "\(mode)")
            #expect(try integerRoundTrip(group, order: 0).values == group, "\(mode)")
            #expect(try integerRoundTrip(Array(group.prefix(77)), order: 0).values == Array(group.prefix(77)), "\(mode)")
        }
        let all = groups.flatMap(\.1)
        for order in 0...2 {
            #expect(try integerRoundTrip(all, order: order).values == all)
        }
    }

    @Test("regular clocks cost 10 bits per 128 points; rare changes and flags about a bit or less")
    func costs() throws {
        let clock = (0..<1000).map { Int64($0) * 5000 }
        let regular = try integerRoundTrip(clock)
        #expect(regular.values == clock)
        // Order, first value 0, first delta 5000 (14 bits of zigzag), then 8 all-zero groups.
        #expect(regular.bits == 2 + 7 + (7 + 14) + 10 * 8)
        let jittered = clock.enumerated().map { $0.element + Int64($0.offset % 3) }
        #expect(try integerRoundTrip(jittered).bits <= 1000 * 3)
        var rng = Seeded(state: 4)
        let flags = (0..<1024).map { _ in Int64.random(in: 0...1, using: &rng) }
        #expect(try integerRoundTrip(flags).bits <= 1024 + 8 * 10 + 2)
        let steps = (0..<1024).map { Int64($0 / 200) }
        #expect(try integerRoundTrip(steps).bits <= 8 * 10 + 5 * 20 + 2)
    }

    @Test("malformed streams throw instead of trapping: unknown order or mode, widths over 64, positions out of order, truncation")
    func malformed() {
        func stream(_ build: (inout BitWriter) -> Void) -> [UInt8] {
            var writer = BitWriter()
            build(&writer)
            writer.write(0, bits: 64)
            return writer.finish()
        }
        let group = IntegerCodec.modeBits, width = IntegerCodec.widthBits, position = IntegerCodec.positionBits
        let cases: [(String, [UInt8])] = [
            ("order 3", stream { $0.write(3, bits: 2) }),
            ("mode 6", stream { $0.write(0, bits: 2); $0.write(6, bits: group) }),
            ("mode 7", stream { $0.write(0, bits: 2); $0.write(7, bits: group) }),
            ("width 65", stream { $0.write(0, bits: 2); $0.write(0, bits: group); $0.write(65, bits: width) }),
            ("width 127", stream { $0.write(0, bits: 2); $0.write(1, bits: group); $0.write(127, bits: width) }),
            ("patched widths over 64", stream {
                $0.write(0, bits: 2); $0.write(5, bits: group); $0.write(40, bits: width); $0.write(25, bits: width)
            }),
            ("positions beyond the group", stream {
                $0.write(0, bits: 2); $0.write(4, bits: group); $0.write(1, bits: width); $0.write(0, bits: position)
                $0.write(UInt64(IntegerCodec.groupSize - 1), bits: position)
            }),
            ("positions out of order", stream {
                $0.write(0, bits: 2); $0.write(4, bits: group); $0.write(1, bits: width); $0.write(1, bits: position)
                $0.write(5, bits: position); $0.write(0, bits: 1); $0.write(5, bits: position)
            }),
            ("more positions than residuals", stream {
                $0.write(0, bits: 2); $0.write(4, bits: group); $0.write(1, bits: width); $0.write(20, bits: position)
            }),
            ("varbits length over 64", stream { $0.write(1, bits: 2); $0.write(100, bits: 7) }),
        ]
        for (name, bytes) in cases {
            // 10 values: the positions cases claim more than the (short) group holds.
            #expect(throws: TimeSeriesError.self, "\(name)") { _ = try decodeIntegers(bytes, count: 10, batched: false) }
            #expect(throws: TimeSeriesError.self, "\(name)") { _ = try decodeIntegers(bytes, count: 10, batched: true) }
        }
        // Every truncation of a valid stream.
        var writer = BitWriter()
        let values = Self.groups().flatMap(\.1)
        IntegerCodec.encode(values, into: &writer)
        let bytes = writer.finish()
        for length in 0..<bytes.count {
            for batched in [false, true] {
                #expect(throws: TimeSeriesError.self, "\(length)") {
                    _ = try decodeIntegers(Array(bytes.prefix(length)), count: values.count, batched: batched)
                }
            }
        }
    }

    @Test("bit writer and reader agree on every width and alignment")
    func bits() throws {
        var rng = Seeded(state: 12)
        var writer = BitWriter()
        var written: [(UInt64, Int)] = []
        for _ in 0..<2000 {
            let width = Int.random(in: 0...64, using: &rng)
            let value = width == 0 ? 0 : rng.next() >> UInt64(64 - width)
            writer.write(value, bits: width)
            written.append((value, width))
        }
        let total = writer.bitCount
        let bytes = writer.finish()
        #expect(bytes.count == (total + 7) / 8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) in
            var reader = BitReader(UnsafeRawBufferPointer(buffer), to: total)
            for (value, width) in written {
                #expect(try reader.read(bits: width) == value)
            }
            #expect(reader.remaining == 0)
            #expect(throws: TimeSeriesError.self) { try reader.readBit() }
        }
    }
}
