import Testing

@testable import HubTimeSeries

/// A deterministic generator (SplitMix64), so failures reproduce.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Whether two point lists are equal, comparing bit patterns (NaN ≠ NaN with `==`, and −0.0 == 0.0).
func identical(_ a: [(time: Int64, value: Double)], _ b: [(time: Int64, value: Double)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.time == $1.time && $0.value.bitPattern == $1.value.bitPattern }
}

/// Round trip through bytes by every decoding path, comparing bit patterns.
func roundTrip(_ points: [(time: Int64, value: Double)]) throws -> Bool {
    let block = try FloatBlock(points)
    let read = try FloatBlock(bytes: block.bytes)
    var times: [Int64] = [], values: [Double] = []
    try read.decode(times: &times, values: &values)
    var visited: [(time: Int64, value: Double)] = []
    try read.forEach { visited.append(($0, $1)) }
    return identical(try read.points(), points) && identical(Array(zip(times, values)).map { ($0, $1) }, points)
        && identical(visited, points) && read == block
}

/// A series of `count` points 5 s apart.
func regular(_ values: [Double], start: Int64 = 1_767_571_200_000, step: Int64 = 5000) -> [(time: Int64, value: Double)] {
    values.enumerated().map { (start + Int64($0.offset) * step, $0.element) }
}

@Suite("Compressed float blocks: round trips and codec choice")
struct FloatBlockTests {
    @Test("random series round-trip exactly", arguments: 0..<30)
    func random(_ seed: Int) throws {
        var rng = Seeded(state: UInt64(seed))
        let count = Int.random(in: 0...2_000, using: &rng)
        var time = Int64.random(in: 0...2_000_000_000_000, using: &rng)
        var value = Double.random(in: -1000...1000, using: &rng)
        var points: [(time: Int64, value: Double)] = []
        for _ in 0..<count {
            // Mostly regular steps with jitter, sometimes anything.
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: time &+= Int64.random(in: -1_000_000...1_000_000_000, using: &rng)
            case 1: value = Double(bitPattern: rng.next())
            default:
                time &+= 5000 + Int64.random(in: -3...3, using: &rng)
                value += Double.random(in: -0.5...0.5, using: &rng)
            }
            points.append((time, value))
        }
        #expect(try roundTrip(points))
    }

    @Test("adversarial series: NaN payloads, -0.0, infinities, equal and backward times, huge gaps, Int64 extremes")
    func adversarial() throws {
        let nanWithPayload = Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)
        let signallingNaN = Double(bitPattern: 0x7FF0_0000_0000_0001)
        typealias Series = [(time: Int64, value: Double)]
        var series: [Series] = [[], [(0, 0)], [(Int64.min, -0.0)], [(Int64.max, .nan)], [(-1, 1), (-1, 1)]]
        let specials: [Double] = [
            .nan, nanWithPayload, -.nan, signallingNaN, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude,
            .leastNonzeroMagnitude, -.leastNormalMagnitude, 9_007_199_254_740_992, 9_007_199_254_740_994, 1e-10, 0.1 + 0.2,
        ]
        series.append(specials.enumerated().map { (Int64($0.offset), $0.element) })
        series.append([(100, 1), (100, 2), (100, 3), (100, 3)])
        let times: [Int64] = [100, 50, 75, -10, Int64.min, Int64.max, 0, Int64.max, Int64.min]
        series.append(times.enumerated().map { ($0.element, Double($0.offset)) })
        series.append(times.map { ($0, 0.25) })
        let gaps: [Int64] = [0, 1, 1 << 40, (1 << 40) + 1, -(1 << 62)]
        series.append(gaps.map { ($0, 1.0) })
        series.append((0..<1000).map { (Int64($0) * 5000, 42.0) })
        series.append((0..<1000).map { i -> (time: Int64, value: Double) in
            let jitter: Int64 = i % 2 == 0 ? 64 : -63
            return (Int64(i) * 5000 + jitter, Double(i % 7))
        })
        series.append((0..<500).map { i -> (time: Int64, value: Double) in
            let jitter = Int64((i * 2_654_435_761) % 4097) - 2048
            return (Int64(i) * 1000 + jitter, Double(bitPattern: UInt64(i) << 52))
        })
        // Decimal series with special values sprinkled in (exceptions), at every position pattern.
        for position in [0, 1, 63, 64, 65, 199] {
            for special in specials {
                var values = (0..<200).map { Double($0 % 17) / 4 }
                values[position] = special
                series.append(regular(values))
            }
        }
        // Integers at the 2^53 boundary and beyond, and extreme magnitudes.
        series.append(regular([9_007_199_254_740_992, -9_007_199_254_740_992, 9_007_199_254_740_991, 0]))
        series.append(regular([1e300, -1e300, 1e-300, .leastNonzeroMagnitude]))
        for points in series {
            #expect(try roundTrip(points), "\(points.prefix(4))")
        }
    }

    @Test("decimal series at every scale round-trip and are coded as decimals at that scale", arguments: 0...9)
    func decimals(_ scale: Int) throws {
        var rng = Seeded(state: 100 + UInt64(scale))
        var divisor = 1.0
        for _ in 0..<scale { divisor *= 10 }
        for count in [1, 2, 3, 64, 65, 130, 720] {
            var n = Int64.random(in: -1_000_000...1_000_000, using: &rng)
            var values: [Double] = []
            for _ in 0..<count {
                n += Int64.random(in: -5000...5000, using: &rng)
                values.append(Double(n) / divisor)
            }
            // At least one value needs all `scale` digits.
            values[count / 2] = Double(n | 1) / divisor
            let points = regular(values)
            #expect(try roundTrip(points))
            #expect(try FloatBlock(points).valueEncoding == .decimal(scale: scale), "count \(count)")
        }
    }

    @Test("decimal series keep −0.0, NaN and ∞ as exceptions, bit for bit")
    func exceptions() throws {
        var values = (0..<720).map { Double($0 % 50 - 25) / 100 }
        for i in stride(from: 3, to: 720, by: 37) { values[i] = -0.0 }
        values[100] = .nan
        values[101] = Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)
        values[500] = -.infinity
        values[719] = 0.123456789012
        let block = try FloatBlock(regular(values))
        #expect(block.valueEncoding == .decimal(scale: 2))
        #expect(try roundTrip(regular(values)))
        #expect(block.sectionSizes.values < 720, "\(block.sectionSizes.values) value bytes")
    }

    @Test("blocks that are not mostly short decimals fall back to XOR; the codec chosen is never larger than XOR")
    func fallback() throws {
        var rng = Seeded(state: 5)
        let random = (0..<300).map { _ in Double.random(in: -1000...1000, using: &rng) }
        #expect(try FloatBlock(regular(random)).valueEncoding == .xor)
        let mostlyRandom = (0..<300).map { i in i % 10 == 0 ? Double(i) / 100 : random[i] }
        let nonFinite = [Double](repeating: .nan, count: 100)
        #expect(try FloatBlock(regular(nonFinite)).valueEncoding == .xor)
        // Half decimals, or integers among thirds: either codec may win, but never the larger one.
        let mixed = (0..<300).map { i in i % 2 == 0 ? Double(i) / 100 : random[i] }
        let thirds = (0..<300).map { Double($0) / 3 }
        let nines = (0..<300).map { Double($0) / 1e9 + 0.123456789 }
        for values in [random, mostlyRandom, nonFinite, mixed, thirds, nines] {
            let chosen = try FloatBlock(regular(values))
            let xor = try FloatBlock(times: regular(values).map(\.time), values: values, allowingDecimal: false)
            #expect(chosen.bytes.count <= xor.bytes.count)
            #expect(try roundTrip(regular(values)))
        }
    }

    @Test("the scale is checked with the decoder's arithmetic: values that would not come back exactly are exceptions")
    func exactness() {
        for scale in 0...DecimalCodec.maximumScale {
            #expect(DecimalCodec.integer(-0.0, scale: scale) == nil)
            #expect(DecimalCodec.integer(.nan, scale: scale) == nil)
            #expect(DecimalCodec.integer(.infinity, scale: scale) == nil)
            #expect(DecimalCodec.integer(1e300, scale: scale) == nil)
            #expect(DecimalCodec.integer(9_007_199_254_740_992 / DecimalCodec.powers[scale] * 2, scale: scale) == nil)
        }
        #expect(DecimalCodec.integer(0.1 + 0.2, scale: 9) == nil)
        #expect(DecimalCodec.integer(58.08, scale: 1) == nil)
        #expect(DecimalCodec.integer(58.08, scale: 2) == 5808)
        #expect(DecimalCodec.integer(-122.3, scale: 1) == -1223)
        #expect(DecimalCodec.integer(9_007_199_254_740_992, scale: 0) == 9_007_199_254_740_992)
        #expect(DecimalCodec.chooseScale([0.5, 0.25, 0.125]) == 3)
        #expect(DecimalCodec.chooseScale([.nan, -0.0]) == nil)
        // One value with many digits among many short ones is an exception, not a reason for scale 9.
        #expect(DecimalCodec.chooseScale((0..<100).map { Double($0) / 10 } + [0.123456789]) == 1)
    }

    @Test("regular times cost well under a bit per point; booleans a bit or less; constants almost nothing")
    func smallCases() throws {
        let count = 720
        var rng = Seeded(state: 9)
        let flips = (0..<count).map { _ in Double(Int.random(in: 0...1, using: &rng)) }
        let flipping = try FloatBlock(regular(flips))
        #expect(flipping.valueEncoding == .decimal(scale: 0))
        // Random flags: a bit each, plus a 10-bit group header per 128 points.
        #expect(flipping.sectionSizes.values * 8 <= count * 11 / 10 + 16, "\(flipping.sectionSizes.values) bytes")
        #expect(flipping.sectionSizes.times * 8 <= count / 4, "\(flipping.sectionSizes.times) bytes")
        let rare = (0..<count).map { Double(($0 / 100) % 2) }
        let rarely = try FloatBlock(regular(rare))
        #expect(rarely.sectionSizes.values * 8 <= count / 3, "\(rarely.sectionSizes.values) bytes")
        let constant = try FloatBlock(regular([Double](repeating: 21.5, count: count)))
        #expect(constant.bytes.count < 60, "\(constant.bytes.count) bytes")
        #expect(try roundTrip(regular(flips)) && roundTrip(regular(rare)))
    }

    @Test("decode(times:values:) appends; forEach and points() agree; header facts are read without decoding")
    func decodingAPIs() throws {
        let points = regular((0..<300).map { Double($0) / 4 }, start: -7_000)
        let block = try FloatBlock(points)
        var times: [Int64] = [1, 2], values: [Double] = [3]
        try block.decode(times: &times, values: &values)
        #expect(times.count == 302 && values.count == 301 && times[2] == -7_000 && values[1] == 0)
        #expect(block.count == 300)
        #expect(block.timeRange?.lowerBound == -7_000 && block.timeRange?.upperBound == 1_488_000)
        let header = try BlockHeader(bytes: block.bytes)
        #expect(header.kind == .float && header.version == 2 && header.count == 300 && header.timeRange == block.timeRange)
        let shuffled = try FloatBlock([(30, 1), (-5, 2), (12, 3)])
        #expect(shuffled.timeRange == -5...30)
        #expect(try FloatBlock([]).timeRange == nil)
        #expect(try BlockHeader(bytes: FloatBlock([]).bytes).count == 0)
        #expect(throws: TimeSeriesError(.invalidArgument, "a block needs as many times as values")) {
            _ = try FloatBlock(times: [1, 2], values: [1])
        }
        // Skipping the checksum gives the same block.
        #expect(try FloatBlock(bytes: block.bytes, verifyingChecksum: false) == block)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
