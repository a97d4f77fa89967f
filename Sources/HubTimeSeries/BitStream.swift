/// Appends bits, most significant first, to a byte array.
///
/// Up to seven pending bits wait in `accumulator`; whole bytes go to `bytes` as soon as they fill, so a
/// write is a shift, an or and at most eight appends (no per-bit work).
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    /// Pending bits, right-aligned; fewer than 8 between calls.
    private var accumulator: UInt64 = 0
    private var pending = 0

    init(reservingBytes capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    var bitCount: Int { bytes.count * 8 + pending }

    mutating func write(bit: Bool) {
        write(bit ? 1 : 0, bits: 1)
    }

    /// The low `count` bits of `value` (0…64), most significant first.
    mutating func write(_ value: UInt64, bits count: Int) {
        precondition((0...64).contains(count))
        if count > 56 {
            // Keep `pending + count` within the 64-bit accumulator.
            write(value >> 32, bits: count - 32)
            write(value & 0xFFFF_FFFF, bits: 32)
            return
        }
        guard count > 0 else { return }
        accumulator = (accumulator << UInt64(count)) | (value & ((1 << UInt64(count)) &- 1))
        pending += count
        while pending >= 8 {
            pending -= 8
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(pending)))
        }
        accumulator &= (1 << UInt64(pending)) &- 1
    }

    /// `value` as a 7-bit bit length L (0…64) followed by its L significant bits: small numbers stay small.
    mutating func writeVarbits(_ value: UInt64) {
        let length = BlockFormat.bitWidth(value)
        write(UInt64(length), bits: 7)
        write(value, bits: length)
    }

    /// The bytes written, the last one padded with zero bits.
    mutating func finish() -> [UInt8] {
        if pending > 0 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator << UInt64(8 - pending)))
            accumulator = 0
            pending = 0
        }
        return bytes
    }
}

/// Reads bits written by `BitWriter` from a window `[position, end)` of raw memory, most significant first.
///
/// Reading past `end` is an error, never a crash: every read checks its length against `end` first, and
/// `end` never exceeds the buffer. Only valid inside the `withUnsafeBytes` call that produced the buffer.
struct BitReader {
    private let base: UnsafeRawBufferPointer
    /// Bit offset of the next read.
    private(set) var position: Int
    /// Bit offset just past the last readable bit.
    let end: Int

    /// The bits `[start, end)` of `bytes` (bit offsets; `end` defaults to the whole buffer and is clamped to it).
    init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        base = bytes
        let limit = bytes.count * 8
        self.end = min(max(end ?? limit, 0), limit)
        position = min(max(start, 0), self.end)
    }

    var remaining: Int { end - position }

    mutating func readBit() throws(TimeSeriesError) -> Bool {
        guard position < end else { throw Self.truncated }
        let bit = base[position >> 3] & (0x80 >> UInt8(position & 7)) != 0
        position += 1
        return bit
    }

    /// The next `count` bits (0…64) as the low bits of the result.
    @inline(__always)
    mutating func read(bits count: Int) throws(TimeSeriesError) -> UInt64 {
        guard count >= 0, count <= 64, count <= end - position else { throw Self.truncated }
        return readUnchecked(bits: count)
    }

    /// Throws unless `count` more bits can be read — once for a loop of `readUnchecked`.
    @inline(__always)
    func ensure(bits count: Int) throws(TimeSeriesError) {
        guard count <= end - position else { throw Self.truncated }
    }

    /// `read(bits:)` (0…64) without the length check, for loops whose total the caller checked with
    /// `ensure`. Still memory-safe if that check were wrong: loads never pass the buffer, and the next
    /// checked read throws because `position` is past `end`.
    @inline(__always)
    mutating func readUnchecked(bits count: Int) -> UInt64 {
        if count == 0 { return 0 }
        if count > 56 {
            let high = readUnchecked(bits: count - 32)
            return high << 32 | readUnchecked(bits: 32)
        }
        // Bit offset within the first byte is at most 7, so `count` ≤ 56 bits lie in the next 8 bytes.
        let word = loadWord(at: position >> 3)
        let value = (word << UInt64(position & 7)) >> UInt64(64 - count)
        position += count
        return value
    }

    /// A number written by `BitWriter.writeVarbits`.
    mutating func readVarbits() throws(TimeSeriesError) -> UInt64 {
        let length = Int(try read(bits: 7))
        guard length <= 64 else { throw TimeSeriesError(.corrupt, "a number's bit length is out of range") }
        return try read(bits: length)
    }

    /// Skips `count` bits (checked like a read).
    mutating func skip(bits count: Int) throws(TimeSeriesError) {
        guard count >= 0, count <= end - position else { throw Self.truncated }
        position += count
    }

    /// Eight bytes from `index` as a big-endian word; bytes beyond the buffer read as zero.
    @inline(__always)
    private func loadWord(at index: Int) -> UInt64 {
        if index + 8 <= base.count {
            return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        }
        var word: UInt64 = 0
        for offset in 0..<8 {
            word <<= 8
            if index + offset < base.count { word |= UInt64(base[index + offset]) }
        }
        return word
    }

    private static let truncated = TimeSeriesError(.corrupt, "a block ends in the middle of a value")
}

/// Why a block cannot be read (or written).
public struct TimeSeriesError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Bytes that are not a block this version wrote (bad magic, truncated, inconsistent).
        case corrupt
        /// A block of a format version this build does not know (written by a newer Meridian).
        case unsupportedVersion
        /// Points given out of time order to an encoder that needs them ordered, or other misuse.
        case invalidArgument
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
