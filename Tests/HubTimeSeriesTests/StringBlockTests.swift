import Testing

@testable import HubTimeSeries

/// Round trip through bytes by every decoding path.
func stringRoundTrip(_ points: [(time: Int64, value: String)]) throws -> Bool {
    let block = try StringBlock(points)
    let read = try StringBlock(bytes: block.bytes)
    var times: [Int64] = [], values: [String] = []
    try read.decode(times: &times, values: &values)
    var visited: [(Int64, String)] = []
    try read.forEach { visited.append(($0, $1)) }
    let expected = points.map { "\($0.time) \($0.value.unicodeScalars.map(\.value))" }
    return try read.points().map { "\($0.time) \($0.value.unicodeScalars.map(\.value))" } == expected
        && zip(times, values).map { "\($0) \($1.unicodeScalars.map(\.value))" } == expected
        && visited.map { "\($0) \($1.unicodeScalars.map(\.value))" } == expected && read == block
}

/// A string block from parts, sealed — for malformed dictionaries and indices.
func craftedStringBlock(count: Int, dictionary: [[UInt8]], times: [Int64], indices: [Int64]) -> [UInt8] {
    var timeWriter = BitWriter(), indexWriter = BitWriter()
    IntegerCodec.encode(times, into: &timeWriter)
    IntegerCodec.encode(indices, into: &indexWriter)
    let timeBytes = timeWriter.finish()
    var bytes = BlockLayout.header(
        magic: StringBlock.magic, version: StringBlock.version, kind: BlockLayout.kindString, codec: 0, count: count,
        timeRange: count == 0 ? nil : 0...1000, timeStreamLength: timeBytes.count)
    BlockFormat.appendVarint(UInt64(dictionary.count), to: &bytes)
    for entry in dictionary {
        BlockFormat.appendVarint(UInt64(entry.count), to: &bytes)
        bytes += entry
    }
    bytes += timeBytes
    bytes += indexWriter.finish()
    BlockFormat.seal(&bytes)
    return bytes
}

@Suite("Compressed string blocks")
struct StringBlockTests {
    @Test("string series round-trip: small vocabularies, Unicode, empty and long strings, many distinct values")
    func roundTrips() throws {
        var rng = Seeded(state: 40)
        let vocabulary = ["idle", "flying", "charging", "", "ünïcødé", "🚁 drone", "e\u{301}", "\u{E9}", "\u{0}nul", String(repeating: "x", count: 1000)]
        var series: [[(time: Int64, value: String)]] = [[], [(0, "")], [(Int64.min, "a"), (Int64.max, "b"), (Int64.min, "a")]]
        for count in [1, 2, 127, 128, 129, 720, 3000] {
            series.append((0..<count).map { (Int64($0) * 20_000 + Int64.random(in: -5...5, using: &rng), vocabulary.randomElement(using: &rng)!) })
        }
        series.append((0..<2000).map { (Int64($0), "value \($0 % 1500)") })
        series.append([(1, String(repeating: "é", count: StringBlock.maximumValueBytes / 2))])
        // Canonically equivalent but different bytes: both come back as given.
        series.append([(1, "e\u{301}"), (2, "\u{E9}"), (3, "e\u{301}")])
        for points in series {
            #expect(try stringRoundTrip(points), "\(points.prefix(3))")
        }
        #expect(try StringBlock([(1, "e\u{301}"), (2, "\u{E9}")]).distinctValues.count == 2)
    }

    @Test("a status that rarely changes costs a fraction of a bit per point; the dictionary is in first-appearance order")
    func compression() throws {
        let statuses = ["idle", "flying", "returning", "charging"]
        let start: Int64 = 1_767_571_200_000
        let points = (0..<720).map { i -> (time: Int64, value: String) in (start + Int64(i) * 5000, statuses[(i / 100) % 4]) }
        let block = try StringBlock(points)
        #expect(block.distinctValues == statuses)
        #expect(block.bytes.count < 100, "\(block.bytes.count) bytes")
        var indices: [Int] = []
        try block.forEachIndex { _, index in indices.append(index) }
        #expect(indices == (0..<720).map { ($0 / 100) % 4 })
        let header = try BlockHeader(bytes: block.bytes)
        #expect(header.kind == .string && header.version == 1 && header.count == 720)
        #expect(header.timeRange?.lowerBound == start && header.timeRange?.upperBound == start + 719 * 5000)
    }

    @Test("limits are enforced when writing")
    func limits() {
        #expect { _ = try StringBlock([(0, String(repeating: "x", count: StringBlock.maximumValueBytes + 1))]) } throws: {
            ($0 as? TimeSeriesError)?.code == .invalidArgument
        }
        #expect { _ = try StringBlock(times: [1], values: []) } throws: { ($0 as? TimeSeriesError)?.code == .invalidArgument }
        let many = (0...StringBlock.maximumDistinctValues).map { (Int64($0), String($0)) }
        #expect { _ = try StringBlock(many) } throws: { ($0 as? TimeSeriesError)?.code == .invalidArgument }
    }

    @Test("truncated, flipped, and crafted blocks throw: bad UTF-8, indices past the dictionary, oversized dictionaries")
    func corruption() throws {
        var rng = Seeded(state: 41)
        let block = try StringBlock((0..<300).map { (Int64($0) * 1000, ["a", "bb", "ccc"].randomElement(using: &rng)!) })
        let bytes = block.bytes
        for length in 0..<bytes.count {
            #expect(throws: TimeSeriesError.self) { _ = try StringBlock(bytes: Array(bytes.prefix(length))).points() }
            _ = try? StringBlock(bytes: Array(bytes.prefix(length)), verifyingChecksum: false).points()
        }
        for position in 0..<bytes.count {
            var flipped = bytes
            flipped[position] ^= UInt8.random(in: 1...255, using: &rng)
            #expect(throws: TimeSeriesError.self) { _ = try StringBlock(bytes: flipped).points() }
            _ = try? StringBlock(bytes: resealed(flipped)).points()
        }
        let valid = craftedStringBlock(count: 3, dictionary: [Array("a".utf8), Array("b".utf8)], times: [0, 1, 2], indices: [0, 1, 0])
        #expect(try StringBlock(bytes: valid).points().map(\.value) == ["a", "b", "a"])
        let cases: [(String, [UInt8])] = [
            ("invalid UTF-8", craftedStringBlock(count: 1, dictionary: [[0xC3, 0x28]], times: [0], indices: [0])),
            ("index past the dictionary", craftedStringBlock(count: 3, dictionary: [Array("a".utf8)], times: [0, 1, 2], indices: [0, 1, 0])),
            ("negative index", craftedStringBlock(count: 2, dictionary: [Array("a".utf8)], times: [0, 1], indices: [0, -1])),
            ("more distinct values than points", craftedStringBlock(count: 1, dictionary: [[0x61], [0x62]], times: [0], indices: [0])),
            ("no dictionary", craftedStringBlock(count: 1, dictionary: [], times: [0], indices: [0])),
            ("entry longer than the block", {
                var bytes = craftedStringBlock(count: 1, dictionary: [[0x61]], times: [0], indices: [0])
                let headerEnd = try! BlockLayout(bytes, magic: StringBlock.magic, version: 1, kind: 2, verify: false).headerEnd
                bytes[headerEnd + 1] = 0x7F
                return resealed(bytes)
            }()),
            ("float block", try FloatBlock([(1, 1)]).bytes),
        ]
        for (name, bytes) in cases {
            #expect(throws: TimeSeriesError.self, "\(name)") { _ = try StringBlock(bytes: bytes).points() }
        }
    }
}
