/// A write-ahead log record: the points of one applied batch that were accepted, in order.
///
/// Payload: kind (1 byte, 1 = points), point count (4 B), then per point the series id as a zigzag varint
/// delta from the previous point's, the time as a zigzag varint delta from the previous point's (points of
/// one instant cost one byte), and the value: when it is exactly k / 10^2, k / 10^4 or k / 10^6 (sensor
/// decimals), a varint of zigzag(k) << 2 | scale tag (0, 1, 2), else the byte 3 and the 8 bytes of the
/// double. About 4–5 bytes per point for telemetry batches.
struct WALRecordWriter {
    static let kindPoints: UInt8 = 1

    private(set) var buffer: [UInt8] = []
    private(set) var count: UInt32 = 0
    private var previousSeries: Int64 = 0
    private var previousTime: Int64 = 0

    init() {}

    /// Starts a new record (keeps the buffer's capacity).
    mutating func reset(expectedPoints: Int) {
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(TimeSeriesWAL.frameSize + 5 + expectedPoints * 12)
        buffer.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0, Self.kindPoints, 0, 0, 0, 0])
        count = 0
        previousSeries = 0
        previousTime = 0
    }

    @inline(__always) mutating func add(series: UInt32, time: Int64, value: Double) {
        let seriesDelta = Int64(series) &- previousSeries
        previousSeries = Int64(series)
        let timeDelta = time &- previousTime
        previousTime = time
        appendVarint(UInt64(bitPattern: (seriesDelta << 1) ^ (seriesDelta >> 63)))
        appendVarint(UInt64(bitPattern: (timeDelta << 1) ^ (timeDelta >> 63)))
        for tag in 0..<3 {
            let scaled = (value * WALRecord.scales[tag]).rounded()
            if scaled.magnitude < WALRecord.exactLimit, (Double(Int64(scaled)) / WALRecord.scales[tag]).bitPattern == value.bitPattern {
                let integer = Int64(scaled)
                appendVarint(UInt64(bitPattern: (integer << 1) ^ (integer >> 63)) << 2 | UInt64(tag))
                count += 1
                return
            }
        }
        buffer.append(3)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { buffer.append(contentsOf: $0) }
        count += 1
    }

    @inline(__always) private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
    }

    /// Sets the count and the frame; the buffer is then ready for `TimeSeriesWAL.append`.
    mutating func finish() {
        withUnsafeBytes(of: count.littleEndian) { raw in
            for i in 0..<4 { buffer[TimeSeriesWAL.frameSize + 1 + i] = raw[i] }
        }
        TimeSeriesWAL.frame(&buffer)
    }
}

enum WALRecord {
    /// The decimal scales of values (tags 0, 1, 2); tag 3 is a raw double.
    static let scales: [Double] = [100, 10_000, 1_000_000]
    /// Scaled integers stay below 2^53 (exact in a double) and leave room for the tag bits.
    static let exactLimit = 9_007_199_254_740_992.0

    /// Calls `body` with each point of a record payload.
    static func forEachPoint(_ payload: UnsafeRawBufferPointer, _ body: (UInt32, Int64, Double) throws(TimeSeriesError) -> Void) throws(TimeSeriesError) {
        var reader = ByteReader(payload)
        guard try reader.uint8() == WALRecordWriter.kindPoints else { throw TimeSeriesError(.corrupt, "unknown write-ahead log record kind") }
        let count = try reader.uint32()
        var series: Int64 = 0, time: Int64 = 0
        for _ in 0..<count {
            series &+= try reader.zigzag()
            time &+= try reader.zigzag()
            let coded = try reader.varint()
            let value: Double
            switch coded & 3 {
            case 3:
                guard coded == 3 else { throw TimeSeriesError(.corrupt, "a write-ahead log value is malformed") }
                value = try reader.double()
            default:
                let raw = coded >> 2
                value = Double(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)) / scales[Int(coded & 3)]
            }
            guard series >= 0, series <= Int64(UInt32.max) else { throw TimeSeriesError(.corrupt, "a write-ahead log record names an impossible series") }
            try body(UInt32(series), time, value)
        }
    }
}
