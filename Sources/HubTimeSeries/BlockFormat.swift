import HubEventLog
/// Byte-level helpers shared by the block formats: zigzag, LEB128 varints, big-endian words and the
/// CRC-32C that seals every version-2 block.
enum BlockFormat {
    /// Bytes of the checksum at the end of a sealed block.
    static let checksumSize = 4
    /// A varint never takes more than this many bytes (64 bits, 7 per byte).
    static let maximumVarintSize = 10

    /// Signed → unsigned with small magnitudes small: 0, −1, 1, −2 … → 0, 1, 2, 3 …
    @inline(__always)
    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always)
    static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Bits needed to write `value` (0 for 0).
    @inline(__always)
    static func bitWidth(_ value: UInt64) -> Int {
        64 - value.leadingZeroBitCount
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A varint at `offset` (advanced past it), read no further than `limit`.
    static func readVarint(_ bytes: [UInt8], at offset: inout Int, limit: Int) throws(TimeSeriesError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<maximumVarintSize {
            guard offset < limit, offset < bytes.count else { throw TimeSeriesError(.corrupt, "a block header is truncated") }
            let byte = bytes[offset]
            offset += 1
            // The tenth byte holds bit 63 only.
            guard shift < 63 || byte <= 1 else { throw TimeSeriesError(.corrupt, "a block header number is too large") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw TimeSeriesError(.corrupt, "a block header number is too long")
    }

    static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The big-endian word at `offset`; the caller checked that four bytes are there.
    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// Appends the CRC-32C of everything in `bytes` (big endian).
    static func seal(_ bytes: inout [UInt8]) {
        appendUInt32(checksum(bytes, count: bytes.count), to: &bytes)
    }

    /// Whether the last four bytes are the CRC-32C of the rest.
    static func isSealed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= checksumSize else { return false }
        let body = bytes.count - checksumSize
        return checksum(bytes, count: body) == uint32(bytes, at: body)
    }

    /// CRC-32C (Castagnoli) of the first `count` bytes: HubEventLog's slicing-by-8 implementation, the same
    /// checksum the event log puts on its records.
    static func checksum(_ bytes: [UInt8], count: Int) -> UInt32 {
        bytes.withUnsafeBytes { raw in CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
    }
}
