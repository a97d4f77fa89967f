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

/// Round trip through bytes, comparing bit patterns (NaN ≠ NaN with `==`).
func roundTrip(_ points: [(time: Int64, value: Double)]) throws -> Bool {
    let block = try FloatBlock(points)
    let read = try FloatBlock(bytes: block.bytes).points()
    return read.count == points.count && zip(read, points).allSatisfy { $0.time == $1.time && $0.value.bitPattern == $1.value.bitPattern }
}

@Suite("Compressed float blocks (Gorilla delta-of-delta + XOR)")
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
        typealias Series = [(time: Int64, value: Double)]
        var series: [Series] = [[], [(0, 0)]]
        let specials: [Double] = [.nan, nanWithPayload, -.nan, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        series.append(specials.enumerated().map { (Int64($0.offset), $0.element) })
        series.append([(100, 1), (100, 2), (100, 3), (100, 3)])
        let times: [Int64] = [100, 50, 75, -10, Int64.min, Int64.max, 0, Int64.max, Int64.min]
        series.append(times.enumerated().map { ($0.element, Double($0.offset)) })
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
        for points in series {
            #expect(try roundTrip(points), "\(points.prefix(4))")
        }
    }

    @Test("a regular drone series takes well under the 16 bytes per point of raw (time, value) pairs; a constant one 2 bits per point")
    func compression() throws {
        var rng = Seeded(state: 7)
        var speed = 58.0
        let points = (0..<720).map { i -> (time: Int64, value: Double) in
            speed = max(0, speed + Double.random(in: -0.3...0.3, using: &rng)).rounded(toPlaces: 2)
            return (1_795_000_000_000 + Int64(i) * 5000, speed)
        }
        let block = try FloatBlock(points)
        let perPoint = Double(block.bytes.count) / Double(points.count)
        #expect(perPoint < 8, "\(perPoint) bytes per point (16 uncompressed)")
        // A constant series at a regular step costs two bits per point (one for the time, one for the value).
        let constant = try FloatBlock((0..<720).map { (Int64($0) * 5000, 21.5) })
        #expect(constant.bytes.count == FloatBlock.headerSize + (128 + 64 + 2 * 719 + 7) / 8)
    }

    @Test("blocks are versioned; foreign, newer, truncated or inconsistent bytes are errors, not crashes")
    func versioning() throws {
        let block = try FloatBlock((0..<100).map { (Int64($0) * 1000, Double($0)) })
        var newer = block.bytes
        newer[4] = 2
        #expect(throws: TimeSeriesError(.unsupportedVersion, "block format version 2 is not known to this build (it reads version 1)")) {
            _ = try FloatBlock(bytes: newer)
        }
        #expect { _ = try FloatBlock(bytes: Array("NOPE".utf8) + block.bytes.dropFirst(4)) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        #expect { _ = try FloatBlock(bytes: Array(block.bytes.dropLast(3))) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        #expect { _ = try FloatBlock(bytes: [1, 2, 3]) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        // A count larger than the payload holds: reading fails cleanly.
        var overcounted = block.bytes
        overcounted[9] = 0xFF
        #expect { _ = try FloatBlock(bytes: overcounted).points() } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        // Every truncation of the payload, with a consistent header, fails cleanly or reads fewer bits.
        var rng = Seeded(state: 3)
        for _ in 0..<200 {
            var bytes = block.bytes
            bytes[FloatBlock.headerSize + Int.random(in: 0..<(bytes.count - FloatBlock.headerSize), using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            _ = try? FloatBlock(bytes: bytes).points()
        }
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
