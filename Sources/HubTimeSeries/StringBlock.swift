/// An immutable compressed block of (time, string) points — for string-valued measures (a drone's
/// `status`, a firmware version), which repeat a few distinct values.
///
/// Layout (version 1): a `BlockLayout` header (magic `"MTSS"`, kind 2, value codec 0 = dictionary), the
/// **dictionary** — the distinct values in order of first appearance, as a varint count and per value a
/// varint byte length and its UTF-8 bytes — then the **times** as in `FloatBlock` (an `IntegerCodec`
/// stream of time − minimum time) and the **indices** into the dictionary as another `IntegerCodec`
/// stream (a value that rarely changes costs about a bit per point, two alternating ones one bit), then
/// the CRC-32C. Sizes are bounded (`maximum…`) both when writing and when reading.
public struct StringBlock: Sendable, Hashable {
    /// The first four bytes of every string block.
    public static let magic: [UInt8] = Array("MTSS".utf8)
    /// The version this build writes and reads.
    public static let version: UInt8 = 1
    /// Points per block at most.
    public static let maximumPoints = FloatBlock.maximumPoints
    /// Distinct values per block at most.
    public static let maximumDistinctValues = 1 << 16
    /// UTF-8 bytes per value at most.
    public static let maximumValueBytes = 1 << 16
    /// UTF-8 bytes of all distinct values of a block together at most.
    public static let maximumDictionaryBytes = 1 << 24

    static let codecDictionary: UInt8 = 0

    /// The encoded block.
    public let bytes: [UInt8]
    /// Points in the block.
    public let count: Int
    /// The earliest and latest time (nil when empty).
    public let timeRange: ClosedRange<Int64>?
    /// The distinct values, in order of first appearance.
    public let distinctValues: [String]
    private let layout: BlockLayout
    /// Bytes of the dictionary section, between the header and the time stream.
    private let dictionaryLength: Int

    /// Encodes `points` in the order given.
    public init(_ points: [(time: Int64, value: String)]) throws(TimeSeriesError) {
        try self.init(times: points.map(\.time), values: points.map(\.value))
    }

    /// Encodes the points `(times[i], values[i])` in the order given; the arrays must be equally long.
    public init(times: [Int64], values: [String]) throws(TimeSeriesError) {
        guard times.count == values.count else {
            throw TimeSeriesError(.invalidArgument, "a block needs as many times as values")
        }
        guard times.count <= Self.maximumPoints else {
            throw TimeSeriesError(.invalidArgument, "a block holds at most \(Self.maximumPoints) points")
        }
        // Keyed by UTF-8 bytes, not `String`: `String` equality is canonical equivalence ("é" == "e\u{301}"),
        // and a block gives back exactly the bytes it was given.
        var indexOf: [[UInt8]: Int] = [:]
        var distinct: [String] = []
        var indices = [Int64](repeating: 0, count: values.count)
        var dictionary: [UInt8] = []
        var dictionaryUTF8 = 0
        for (i, value) in values.enumerated() {
            let key = Array(value.utf8)
            if let index = indexOf[key] {
                indices[i] = Int64(index)
                continue
            }
            let utf8 = key.count
            guard utf8 <= Self.maximumValueBytes else {
                throw TimeSeriesError(.invalidArgument, "a string value is longer than \(Self.maximumValueBytes) bytes")
            }
            guard distinct.count < Self.maximumDistinctValues else {
                throw TimeSeriesError(.invalidArgument, "a block holds at most \(Self.maximumDistinctValues) distinct values")
            }
            indexOf[key] = distinct.count
            indices[i] = Int64(distinct.count)
            distinct.append(value)
            BlockFormat.appendVarint(UInt64(utf8), to: &dictionary)
            dictionary += key
            dictionaryUTF8 += utf8
            guard dictionaryUTF8 <= Self.maximumDictionaryBytes else {
                throw TimeSeriesError(.invalidArgument, "a block's distinct values hold at most \(Self.maximumDictionaryBytes) bytes")
            }
        }
        let (timeRange, timeBytes) = IntegerCodec.encodeTimes(times)
        var indexWriter = BitWriter()
        IntegerCodec.encode(indices, into: &indexWriter)

        var section: [UInt8] = []
        BlockFormat.appendVarint(UInt64(distinct.count), to: &section)
        section += dictionary
        var bytes = BlockLayout.header(
            magic: Self.magic, version: Self.version, kind: BlockLayout.kindString, codec: Self.codecDictionary,
            count: times.count, timeRange: timeRange, timeStreamLength: timeBytes.count)
        bytes += section
        bytes += timeBytes
        bytes += indexWriter.finish()
        BlockFormat.seal(&bytes)
        self.bytes = bytes
        self.count = times.count
        self.timeRange = timeRange
        self.distinctValues = distinct
        self.layout = try BlockLayout(bytes, magic: Self.magic, version: Self.version, kind: BlockLayout.kindString, verify: false)
        self.dictionaryLength = section.count
    }

    /// A block read back from its bytes: header, sizes, dictionary (bounded, valid UTF-8) and checksum
    /// are checked.
    public init(bytes: [UInt8]) throws(TimeSeriesError) {
        try self.init(bytes: bytes, verifyingChecksum: true)
    }

    /// `init(bytes:)`, optionally without the checksum pass — for a store that checks its own pages.
    public init(bytes: [UInt8], verifyingChecksum: Bool) throws(TimeSeriesError) {
        let layout = try BlockLayout(bytes, magic: Self.magic, version: Self.version, kind: BlockLayout.kindString, verify: verifyingChecksum)
        guard layout.codec == Self.codecDictionary else { throw TimeSeriesError(.corrupt, "block value codec \(layout.codec) is not known") }
        // The dictionary follows the header; the time and index streams follow it, so it ends by
        // `payloadEnd − timeStreamLength` at the latest (its real end is where its last entry ends).
        let dictionaryEnd = layout.payloadEnd - layout.timeStreamLength
        var offset = layout.headerEnd
        let distinctCount = try BlockFormat.readVarint(bytes, at: &offset, limit: dictionaryEnd)
        guard distinctCount <= UInt64(min(Self.maximumDistinctValues, layout.count)) else {
            throw TimeSeriesError(.corrupt, "a block's dictionary size is out of range")
        }
        var distinct: [String] = []
        distinct.reserveCapacity(Int(distinctCount))
        var dictionaryUTF8 = 0
        for _ in 0..<Int(distinctCount) {
            let length = try BlockFormat.readVarint(bytes, at: &offset, limit: dictionaryEnd)
            guard length <= UInt64(Self.maximumValueBytes), length <= UInt64(dictionaryEnd - offset) else {
                throw TimeSeriesError(.corrupt, "a block's dictionary entry is out of range")
            }
            dictionaryUTF8 += Int(length)
            guard dictionaryUTF8 <= Self.maximumDictionaryBytes else { throw TimeSeriesError(.corrupt, "a block's dictionary is too large") }
            guard let value = String(validating: bytes[offset..<(offset + Int(length))], as: UTF8.self) else {
                throw TimeSeriesError(.corrupt, "a block's dictionary entry is not UTF-8")
            }
            distinct.append(value)
            offset += Int(length)
        }
        let dictionaryLength = offset - layout.headerEnd
        let indexBits = (layout.payloadEnd - offset - layout.timeStreamLength) * 8
        guard layout.timeStreamLength * 8 >= IntegerCodec.minimumBits(count: layout.count),
            indexBits >= IntegerCodec.minimumBits(count: layout.count)
        else { throw TimeSeriesError(.corrupt, "a block is too short for its point count") }
        guard layout.count == 0 || !distinct.isEmpty else { throw TimeSeriesError(.corrupt, "a block's dictionary is empty") }
        self.bytes = bytes
        self.count = layout.count
        self.timeRange = layout.timeRange
        self.distinctValues = distinct
        self.layout = layout
        self.dictionaryLength = dictionaryLength
    }

    /// Every point, in the order encoded.
    public func points() throws(TimeSeriesError) -> [(time: Int64, value: String)] {
        var points: [(time: Int64, value: String)] = []
        points.reserveCapacity(count)
        try forEachIndex { points.append(($0, distinctValues[$1])) }
        return points
    }

    /// Appends every time to `times` and every value to `values` (sharing the dictionary's strings: no
    /// per-point allocation beyond the arrays' growth).
    public func decode(times: inout [Int64], values: inout [String]) throws(TimeSeriesError) {
        times.reserveCapacity(times.count + count)
        values.reserveCapacity(values.count + count)
        try forEachIndex { times.append($0); values.append(distinctValues[$1]) }
    }

    /// Calls `body` with every point, in the order encoded.
    public func forEach(_ body: (_ time: Int64, _ value: String) -> Void) throws(TimeSeriesError) {
        try forEachIndex { body($0, distinctValues[$1]) }
    }

    /// Calls `body` with every point's time and index into `distinctValues` — for grouping or counting by
    /// value without touching strings.
    public func forEachIndex(_ body: (_ time: Int64, _ index: Int) -> Void) throws(TimeSeriesError) {
        guard count > 0, let minimum = timeRange?.lowerBound else { return }
        let count = count, layout = layout, section = dictionaryLength, distinct = Int64(distinctValues.count)
        try bytes.withUnsafeBufferPointer { (buffer) throws(TimeSeriesError) in
            let raw = UnsafeRawBufferPointer(buffer)
            try withUnsafeTemporaryAllocation(of: Int64.self, capacity: count + IntegerCodec.groupSize) { (memory) throws(TimeSeriesError) in
                let times = memory.baseAddress!, scratch = times + count
                var timeReader = layout.timeReader(raw, after: section)
                try IntegerCodec.Decoder.decode(count: count, into: times, adding: minimum, &timeReader)
                var indexReader = layout.valueReader(raw, after: section)
                var indices = try IntegerCodec.Decoder(count: count, reader: &indexReader)
                var done = 0
                while done < count {
                    let n = try indices.nextBatch(into: scratch, &indexReader)
                    guard n > 0 else { throw TimeSeriesError(.corrupt, "a block decodes to fewer points than it claims") }
                    for j in 0..<n {
                        let index = scratch[j]
                        guard index >= 0, index < distinct else { throw TimeSeriesError(.corrupt, "a value index is out of range") }
                        body(times[done + j], Int(index))
                    }
                    done += n
                }
            }
        }
    }
}
