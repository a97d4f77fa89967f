import Testing

@testable import HubTimeSeries

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// `bytes` with its checksum recomputed, so a test reaches the decoder with a crafted payload.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var body = Array(bytes.dropLast(BlockFormat.checksumSize))
    BlockFormat.seal(&body)
    return body
}

/// Decodes a block by every path; throws what the first failing one throws.
func decodeFully(_ bytes: [UInt8], verifyingChecksum: Bool = true) throws {
    let block = try FloatBlock(bytes: bytes, verifyingChecksum: verifyingChecksum)
    var times: [Int64] = [], values: [Double] = []
    try block.decode(times: &times, values: &values)
    #expect(times.count == block.count && values.count == block.count)
    try block.forEach { _, _ in }
}

@Suite("Float block format: versions, headers, corruption")
struct FloatBlockFormatTests {
    /// A version-1 block written by the first release (before this codec): its exact bytes.
    static let version1Golden = hexBytes(
        "4d545342010100000008000002b90000019b8b74180040358000000000000000000000001388388381e04b00d7fffffffffffffec75bffe0"
            + "ffffffffffffe3ec580020f000000000003bd0bc5eff7a147ae147ae17dfffff991d225dbfef9ebb807e28e8a580")
    static let version1Points: [(time: Int64, value: Double)] = [
        (1_767_571_200_000, 21.5), (1_767_571_205_000, 21.5), (1_767_571_210_000, 21.75), (1_767_571_215_003, -0.0),
        (1_767_571_215_003, .nan), (1_767_571_100_000, .infinity), (1_767_571_230_000, 58.08), (Int64.max, 1e300),
    ]

    /// Blocks of every codec and edge size.
    static func samples() throws -> [FloatBlock] {
        var rng = Seeded(state: 21)
        var walk = 20.0
        let decimals = (0..<300).map { i -> Double in
            walk = (walk + Double.random(in: -0.3...0.3, using: &rng)).rounded(toPlaces: 2)
            return i % 41 == 0 ? -0.0 : i == 150 ? .nan : walk
        }
        let randoms = (0..<200).map { _ in Double.random(in: -1...1, using: &rng) }
        return [
            try FloatBlock(regular(decimals)), try FloatBlock(regular(randoms)), try FloatBlock([]),
            try FloatBlock([(42, 1.5)]), try FloatBlock([(Int64.min, .nan), (Int64.max, -0.0)]),
        ]
    }

    @Test("version-1 blocks still decode, including ones the first release wrote")
    func version1() throws {
        #expect(FloatBlock.legacyBytes(Self.version1Points) == Self.version1Golden)
        let block = try FloatBlock(bytes: Self.version1Golden)
        #expect(identical(try block.points(), Self.version1Points))
        #expect(block.count == 8 && block.valueEncoding == .xor)
        #expect(block.timeRange == 1_767_571_100_000...Int64.max)
        let header = try BlockHeader(bytes: Self.version1Golden)
        #expect(header.version == 1 && header.count == 8 && header.timeRange == nil && header.kind == .float)
        var rng = Seeded(state: 8)
        for _ in 0..<20 {
            let points = (0..<Int.random(in: 0...500, using: &rng)).map { i -> (time: Int64, value: Double) in
                (Int64(i) * 1000 + Int64.random(in: -3000...3000, using: &rng), Double(bitPattern: rng.next()))
            }
            var times: [Int64] = [], values: [Double] = []
            try FloatBlock(bytes: FloatBlock.legacyBytes(points)).decode(times: &times, values: &values)
            #expect(identical(Array(zip(times, values)).map { ($0, $1) }, points))
        }
    }

    @Test("newer versions are refused as such; foreign magic, kinds and codecs as corrupt")
    func versions() throws {
        let block = try FloatBlock(regular([1, 2, 3]))
        #expect(block.bytes[4] == 2)
        for version: UInt8 in [0, 3, 255] {
            var bytes = block.bytes
            bytes[4] = version
            #expect(throws: TimeSeriesError(.unsupportedVersion, "block format version \(version) is not known to this build (it reads versions up to 2)")) {
                _ = try FloatBlock(bytes: resealed(bytes))
            }
            #expect { _ = try BlockHeader(bytes: bytes) } throws: { ($0 as? TimeSeriesError)?.code == .unsupportedVersion }
        }
        var kind = block.bytes
        kind[5] = 2
        #expect { _ = try FloatBlock(bytes: resealed(kind)) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        for codec: UInt8 in [0x01, 0x0F, 0x1A, 0x20, 0xFF] {
            var bytes = block.bytes
            bytes[6] = codec
            #expect { _ = try FloatBlock(bytes: resealed(bytes)) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        }
        #expect { _ = try FloatBlock(bytes: Array("NOPE".utf8) + block.bytes.dropFirst(4)) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        #expect { _ = try FloatBlock(bytes: StringBlock([(1, "a")]).bytes) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
    }

    @Test("the header gives count and time range without decoding")
    func header() throws {
        for block in try Self.samples() {
            let header = try BlockHeader(bytes: block.bytes)
            #expect(header.kind == .float && header.version == 2 && header.count == block.count && header.timeRange == block.timeRange)
            let points = try block.points()
            if let range = block.timeRange {
                #expect(range.lowerBound == points.map(\.time).min() && range.upperBound == points.map(\.time).max())
            }
        }
    }

    @Test("every truncation and every single-byte change of a block is an error, never a crash or a wrong value")
    func corruption() throws {
        var rng = Seeded(state: 31)
        for block in try Self.samples() + [try FloatBlock(bytes: Self.version1Golden)] {
            let bytes = block.bytes
            for length in 0..<bytes.count {
                #expect(throws: TimeSeriesError.self, "length \(length) of \(bytes.count)") { try decodeFully(Array(bytes.prefix(length))) }
                // Without the checksum: still no crash (and for version 2, nearly always an error).
                _ = try? decodeFully(Array(bytes.prefix(length)), verifyingChecksum: false)
            }
            guard block.bytes[4] == 2 else { continue }  // version 1 has no checksum
            for position in 0..<bytes.count {
                var flipped = bytes
                flipped[position] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(throws: TimeSeriesError.self, "byte \(position)") { try decodeFully(flipped) }
            }
        }
    }

    @Test("crafted payloads with valid checksums throw or decode, never trap", arguments: 0..<8)
    func fuzz(_ seed: Int) throws {
        var rng = Seeded(state: 500 + UInt64(seed))
        let samples = try Self.samples() + [try FloatBlock(bytes: Self.version1Golden)]
        for _ in 0..<300 {
            var bytes = samples.randomElement(using: &rng)!.bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? decodeFully(bytes[4] == 2 ? resealed(bytes) : bytes)
            // A header with a random count and codec over random payload bytes.
            let count = [0, 1, 2, 3, 100, 1000, FloatBlock.maximumPoints].randomElement(using: &rng)!
            let payload = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var crafted = BlockLayout.header(
                magic: FloatBlock.magic, version: 2, kind: BlockLayout.kindFloat,
                codec: [0x00, 0x10, 0x12, 0x19].randomElement(using: &rng)!, count: count,
                timeRange: count == 0 ? nil : Int64.random(in: .min ... .max, using: &rng)...Int64.max,
                timeStreamLength: Int.random(in: 0...payload.count, using: &rng))
            crafted += payload
            BlockFormat.seal(&crafted)
            _ = try? decodeFully(crafted)
        }
    }

    @Test("a count the payload cannot hold is refused before anything is decoded")
    func absurdCounts() throws {
        var bytes = BlockLayout.header(
            magic: FloatBlock.magic, version: 2, kind: BlockLayout.kindFloat, codec: 0x12, count: FloatBlock.maximumPoints,
            timeRange: 0...10, timeStreamLength: 2)
        bytes += [0, 0, 0, 0]
        BlockFormat.seal(&bytes)
        #expect(throws: TimeSeriesError(.corrupt, "a block is too short for its point count")) { _ = try FloatBlock(bytes: bytes) }
        var huge = BlockLayout.header(
            magic: FloatBlock.magic, version: 2, kind: BlockLayout.kindFloat, codec: 0x12, count: FloatBlock.maximumPoints + 1,
            timeRange: 0...10, timeStreamLength: 0)
        BlockFormat.seal(&huge)
        #expect { _ = try FloatBlock(bytes: huge) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        #expect { _ = try BlockHeader(bytes: huge) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
        // A time range whose end overflows Int64: minimum Int64.max − 5, span 100.
        var overflow = FloatBlock.magic + [2, BlockLayout.kindFloat, 0x00]
        BlockFormat.appendVarint(1, to: &overflow)
        BlockFormat.appendVarint(BlockFormat.zigzag(Int64.max - 5), to: &overflow)
        BlockFormat.appendVarint(100, to: &overflow)
        BlockFormat.appendVarint(0, to: &overflow)
        BlockFormat.seal(&overflow)
        #expect { _ = try FloatBlock(bytes: overflow) } throws: { ($0 as? TimeSeriesError)?.code == .corrupt }
    }
}
