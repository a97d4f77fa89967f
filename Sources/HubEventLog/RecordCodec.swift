import HubCore

/// The binary form of one `LogEvent` in a segment file. Pure: no I/O.
///
/// ```
/// header (12 bytes, little-endian)
///   magic    2  0x4D 0x4C ("ML")
///   version  1  1
///   flags    1  0 (reserved; anything else is rejected)
///   length   4  payload bytes
///   crc32c   4  CRC-32C of the payload
/// payload
///   offset i64, sequence number i64, enqueued time i64 (ms since 1970)
///   partition key: str
///   messageID, correlationID, userID, contentType, contentEncoding: opt-str
///   absolute expiry: u8 present + i64
///   to, outputName, interfaceID, component, creationTimeUTC, ack: opt-str
///   connection device id, module id, auth method, auth generation id, message source: opt-str
///   mqtt retain: u8
///   application properties: u32 count, then per property: str name, opt-str value (nil = bare key)
///   body: u32 length + bytes
/// str = u32 length + UTF-8; opt-str = the same with length 0xFFFF_FFFF meaning nil
/// ```
/// The offset, sequence number and time come first so recovery and seeking can read them from a frame
/// without decoding the rest.
public enum RecordCodec {
    /// Bytes before the payload.
    public static let headerSize = 12
    /// The largest payload accepted. A device message is at most 256 KiB of counted bytes; hub-stamped
    /// fields and length prefixes add little, so 4 MiB leaves room while bounding what a corrupt length
    /// field can make a reader allocate.
    public static let maxPayloadLength = 4 * 1024 * 1024
    static let magic0: UInt8 = 0x4D
    static let magic1: UInt8 = 0x4C
    static let version: UInt8 = 1
    private static let nilLength: UInt32 = 0xFFFF_FFFF

    // MARK: encoding

    /// Appends the record for `event` to `buffer` (reused across batches, so steady-state encoding does
    /// not allocate) and returns the record's length in bytes.
    @discardableResult
    public static func encode(_ event: LogEvent, into buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        // Header: magic, version, flags, then length and CRC filled in below. No temporary arrays on
        // this path: it runs once per stored message.
        buffer.append(magic0)
        buffer.append(magic1)
        buffer.append(version)
        buffer.append(0)
        put32(0, &buffer)
        put32(0, &buffer)
        let m = event.message
        put(event.offset, &buffer)
        put(event.sequenceNumber, &buffer)
        put(event.enqueuedTime.rawValue, &buffer)
        putString(event.partitionKey, &buffer)
        putOptional(m.messageID, &buffer)
        putOptional(m.correlationID, &buffer)
        putOptional(m.userID, &buffer)
        putOptional(m.contentType, &buffer)
        putOptional(m.contentEncoding, &buffer)
        if let expiry = m.absoluteExpiryTime {
            buffer.append(1)
            put(expiry.rawValue, &buffer)
        } else {
            buffer.append(0)
        }
        putOptional(m.to, &buffer)
        putOptional(m.outputName, &buffer)
        putOptional(m.interfaceID, &buffer)
        putOptional(m.component, &buffer)
        putOptional(m.creationTimeUTC, &buffer)
        putOptional(m.ack?.rawValue, &buffer)
        putOptional(m.connectionDeviceID?.rawValue, &buffer)
        putOptional(m.connectionModuleID?.rawValue, &buffer)
        putOptional(m.connectionAuthMethod?.rawValue, &buffer)
        putOptional(m.connectionAuthGenerationID, &buffer)
        putOptional(m.messageSource?.rawValue, &buffer)
        buffer.append(m.mqttRetain ? 1 : 0)
        put32(UInt32(truncatingIfNeeded: m.applicationProperties.count), &buffer)
        for property in m.applicationProperties {
            putString(property.name, &buffer)
            putOptional(property.value, &buffer)
        }
        put32(UInt32(truncatingIfNeeded: m.body.count), &buffer)
        buffer.append(contentsOf: m.body)

        let payloadLength = buffer.count - start - headerSize
        let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + headerSize)...])) }
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(truncatingIfNeeded: payloadLength).littleEndian, toByteOffset: start + 4, as: UInt32.self)
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start + 8, as: UInt32.self)
        }
        return buffer.count - start
    }

    private static func put(_ value: Int64, _ buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private static func put32(_ value: UInt32, _ buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private static func putString(_ value: String, _ buffer: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            put32(UInt32(truncatingIfNeeded: bytes.count), &buffer)
            buffer.append(contentsOf: bytes)
        }
    }

    private static func putOptional(_ value: String?, _ buffer: inout [UInt8]) {
        if let value { putString(value, &buffer) } else { put32(nilLength, &buffer) }
    }

    // MARK: framing

    /// What is at a position in a segment.
    public enum Frame: Sendable, Hashable {
        /// A complete record whose CRC matches: its total length (header included), offset and time.
        case valid(length: Int, offset: Int64, enqueuedTime: Int64)
        /// The bytes end inside a record (a torn write, or a read that stopped early). `needed` is the
        /// record's total length when the header was complete.
        case incomplete(needed: Int?)
        /// Not a record: bad magic or version, a length out of range, or a CRC mismatch.
        case corrupt(String)
    }

    /// Checks the record starting at `bytes[position...]` without decoding its fields. Never traps.
    public static func frame(in bytes: UnsafeRawBufferPointer, at position: Int) -> Frame {
        guard position >= 0, position <= bytes.count else { return .corrupt("position out of range") }
        let available = bytes.count - position
        if available < headerSize {
            // A prefix of a valid header is torn; anything else is garbage.
            if available > 0 && bytes[position] != magic0 { return .corrupt("bad magic") }
            if available > 1 && bytes[position + 1] != magic1 { return .corrupt("bad magic") }
            if available > 2 && bytes[position + 2] != version { return .corrupt("unknown version") }
            if available > 3 && bytes[position + 3] != 0 { return .corrupt("unknown flags") }
            return .incomplete(needed: nil)
        }
        guard bytes[position] == magic0, bytes[position + 1] == magic1 else { return .corrupt("bad magic") }
        guard bytes[position + 2] == version else { return .corrupt("unknown version") }
        guard bytes[position + 3] == 0 else { return .corrupt("unknown flags") }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)))
        guard length >= 24, length <= maxPayloadLength else { return .corrupt("length out of range") }
        let total = headerSize + length
        guard available >= total else { return .incomplete(needed: total) }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(position + headerSize)..<(position + total)])
        guard CRC32C.checksum(payload) == stored else { return .corrupt("checksum mismatch") }
        let offset = Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        let time = Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        return .valid(length: total, offset: offset, enqueuedTime: time)
    }

    // MARK: decoding

    /// Decodes the record at `bytes[position...]`: the event and the record's total length. Validates
    /// the frame first; throws `.corrupt` for malformed fields and never traps on garbage.
    public static func decode(from bytes: UnsafeRawBufferPointer, at position: Int) throws(EventLogError) -> (event: LogEvent, length: Int) {
        let length: Int
        switch frame(in: bytes, at: position) {
        case .valid(let l, _, _): length = l
        case .incomplete: throw EventLogError(.corrupt, "incomplete record")
        case .corrupt(let reason): throw EventLogError(.corrupt, reason)
        }
        var r = Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + headerSize)..<(position + length)]))
        let offset = try r.int64()
        let sequence = try r.int64()
        let time = Timestamp(rawValue: try r.int64())
        let key = try r.string()
        var m = DeviceMessage()
        m.messageID = try r.optionalString()
        m.correlationID = try r.optionalString()
        m.userID = try r.optionalString()
        m.contentType = try r.optionalString()
        m.contentEncoding = try r.optionalString()
        if try r.byte() != 0 { m.absoluteExpiryTime = Timestamp(rawValue: try r.int64()) }
        m.to = try r.optionalString()
        m.outputName = try r.optionalString()
        m.interfaceID = try r.optionalString()
        m.component = try r.optionalString()
        m.creationTimeUTC = try r.optionalString()
        if let raw = try r.optionalString() {
            guard let ack = DeviceMessage.Ack(rawValue: raw) else { throw EventLogError(.corrupt, "unknown ack") }
            m.ack = ack
        }
        if let raw = try r.optionalString() {
            guard let id = DeviceID(rawValue: raw) else { throw EventLogError(.corrupt, "invalid device id") }
            m.connectionDeviceID = id
        }
        if let raw = try r.optionalString() {
            guard let id = ModuleID(rawValue: raw) else { throw EventLogError(.corrupt, "invalid module id") }
            m.connectionModuleID = id
        }
        if let raw = try r.optionalString() {
            guard let method = DeviceMessage.AuthMethod(rawValue: raw) else { throw EventLogError(.corrupt, "unknown auth method") }
            m.connectionAuthMethod = method
        }
        m.connectionAuthGenerationID = try r.optionalString()
        m.messageSource = try r.optionalString().map { DeviceMessage.Source(rawValue: $0) }
        m.mqttRetain = try r.byte() != 0
        let count = Int(try r.uint32())
        // Each property takes at least 8 bytes, so a huge count cannot make us reserve memory.
        guard count <= r.remaining / 8 else { throw EventLogError(.corrupt, "property count out of range") }
        m.applicationProperties.reserveCapacity(count)
        for _ in 0..<count {
            let name = try r.string()
            m.applicationProperties.append(.init(name, try r.optionalString()))
        }
        m.body = try r.bytes(Int(try r.uint32()))
        guard r.remaining == 0 else { throw EventLogError(.corrupt, "trailing bytes") }
        m.enqueuedTime = time
        m.sequenceNumber = sequence
        return (LogEvent(offset: offset, sequenceNumber: sequence, enqueuedTime: time, partitionKey: key, message: m), length)
    }

    /// Decodes a buffer holding exactly one record (tests and tools).
    public static func decode(_ bytes: [UInt8]) throws(EventLogError) -> LogEvent {
        let result: Result<(event: LogEvent, length: Int), EventLogError> = bytes.withUnsafeBytes { raw in
            Result { () throws(EventLogError) in try decode(from: raw, at: 0) }
        }
        let (event, length) = try result.get()
        guard length == bytes.count else { throw EventLogError(.corrupt, "trailing bytes") }
        return event
    }

    /// A bounds-checked cursor over a payload.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0
        var remaining: Int { bytes.count - position }

        mutating func need(_ n: Int) throws(EventLogError) {
            guard n >= 0, n <= remaining else { throw EventLogError(.corrupt, "field past end of record") }
        }
        mutating func byte() throws(EventLogError) -> UInt8 {
            try need(1)
            defer { position += 1 }
            return bytes[position]
        }
        mutating func uint32() throws(EventLogError) -> UInt32 {
            try need(4)
            defer { position += 4 }
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        }
        mutating func int64() throws(EventLogError) -> Int64 {
            try need(8)
            defer { position += 8 }
            return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
        }
        mutating func bytes(_ n: Int) throws(EventLogError) -> [UInt8] {
            try need(n)
            defer { position += n }
            return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]))
        }
        mutating func string() throws(EventLogError) -> String {
            let n = Int(try uint32())
            try need(n)
            defer { position += n }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
        }
        mutating func optionalString() throws(EventLogError) -> String? {
            try need(4)
            if UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)) == RecordCodec.nilLength {
                position += 4
                return nil
            }
            return try string()
        }
    }
}
