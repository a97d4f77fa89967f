/// Little-endian integers and LEB128 varints appended to a growing byte array: the encoding of WAL
/// records, series records, roll-up chunks and file metadata.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }

    mutating func appendUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendInt64(_ value: Int64) { appendUInt64(UInt64(bitPattern: value)) }

    mutating func appendDouble(_ value: Double) { appendUInt64(value.bitPattern) }

    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Signed values as zigzag varints (small magnitudes, either sign, take few bytes).
    mutating func appendZigzag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A length-prefixed UTF-8 string.
    mutating func appendString(_ text: String) {
        appendVarint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func setUInt32(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }
}

/// Reads what `ByteWriter` wrote from memory the caller keeps alive; running past the end is a
/// `.corrupt` error, never a crash.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var remaining: Int { buffer.count - offset }
    var isAtEnd: Bool { offset >= buffer.count }

    private static func truncated() -> TimeSeriesError { TimeSeriesError(.corrupt, "stored data ends in the middle of a value") }

    mutating func uint8() throws(TimeSeriesError) -> UInt8 {
        guard offset < buffer.count else { throw Self.truncated() }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func uint32() throws(TimeSeriesError) -> UInt32 {
        guard remaining >= 4 else { throw Self.truncated() }
        defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func uint64() throws(TimeSeriesError) -> UInt64 {
        guard remaining >= 8 else { throw Self.truncated() }
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func int64() throws(TimeSeriesError) -> Int64 { Int64(bitPattern: try uint64()) }

    mutating func double() throws(TimeSeriesError) -> Double { Double(bitPattern: try uint64()) }

    mutating func varint() throws(TimeSeriesError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < buffer.count else { throw Self.truncated() }
            let byte = buffer[offset]
            offset += 1
            guard shift < 64 else { throw TimeSeriesError(.corrupt, "a varint is longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    mutating func zigzag() throws(TimeSeriesError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// `count` raw bytes (a view into the buffer).
    mutating func bytes(_ count: Int) throws(TimeSeriesError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw Self.truncated() }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    mutating func string(maximumBytes: Int) throws(TimeSeriesError) -> String {
        let length = try varint()
        guard length <= UInt64(maximumBytes) else { throw TimeSeriesError(.corrupt, "a stored name is longer than allowed") }
        return String(decoding: try bytes(Int(length)), as: UTF8.self)
    }
}

/// Raw little-endian loads from mapped file memory (bounds are checked by the caller).
extension UnsafeRawPointer {
    @inline(__always) func uint32(at offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    @inline(__always) func uint64(at offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    @inline(__always) func int64(at offset: Int) -> Int64 { Int64(bitPattern: uint64(at: offset)) }
}
