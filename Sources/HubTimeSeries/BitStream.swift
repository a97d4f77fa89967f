/// Appends bits, most significant first, to a byte array.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    /// Bits used in the last byte (0 when it is full or there is none).
    private var used = 0

    var bitCount: Int { bytes.count * 8 - (used == 0 ? 0 : 8 - used) }

    mutating func write(bit: Bool) {
        if used == 0 { bytes.append(0) }
        if bit { bytes[bytes.count - 1] |= 0x80 >> UInt8(used) }
        used = (used + 1) & 7
    }

    /// The low `count` bits of `value` (0…64), most significant first.
    mutating func write(_ value: UInt64, bits count: Int) {
        precondition((0...64).contains(count))
        var remaining = count
        while remaining > 0 {
            if used == 0 { bytes.append(0) }
            let free = 8 - used
            let take = min(free, remaining)
            let shift = remaining - take
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & ((1 << UInt64(take)) &- 1))
            bytes[bytes.count - 1] |= chunk << UInt8(free - take)
            used = (used + take) & 7
            remaining -= take
        }
    }
}

/// Reads bits written by `BitWriter`; reading past the end is an error, never a crash.
struct BitReader {
    private let bytes: [UInt8]
    private var position = 0
    private let end: Int

    init(_ bytes: [UInt8], bitCount: Int? = nil) {
        self.bytes = bytes
        end = min(bitCount ?? bytes.count * 8, bytes.count * 8)
    }

    var remaining: Int { end - position }

    mutating func readBit() throws(TimeSeriesError) -> Bool {
        guard position < end else { throw TimeSeriesError(.corrupt, "a block ends in the middle of a value") }
        let bit = bytes[position >> 3] & (0x80 >> UInt8(position & 7)) != 0
        position += 1
        return bit
    }

    mutating func read(bits count: Int) throws(TimeSeriesError) -> UInt64 {
        guard count >= 0, count <= 64, position + count <= end else { throw TimeSeriesError(.corrupt, "a block ends in the middle of a value") }
        var value: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let offset = position & 7
            let available = 8 - offset
            let take = min(available, remaining)
            let byte = UInt64(bytes[position >> 3])
            let chunk = (byte >> UInt64(available - take)) & ((1 << UInt64(take)) &- 1)
            value = (value << UInt64(take)) | chunk
            position += take
            remaining -= take
        }
        return value
    }
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
