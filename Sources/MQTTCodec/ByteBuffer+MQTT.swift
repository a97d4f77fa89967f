import NIOCore

/// The MQTT data representations (5.0 §1.5, 3.1.1 §1.5) on `ByteBuffer`.
///
/// Every read checks the bytes that are actually readable before touching them and throws a typed
/// `MQTTCodecError` instead of trapping; nothing is ever allocated from a declared length (a length is
/// compared with `readableBytes` first, and binary data is returned as a slice, not a copy).
extension ByteBuffer {
    /// The largest value a Variable Byte Integer can carry (4 bytes). [MQTT-1.5.5]
    static let maximumVariableByteInteger = 268_435_455
    /// The largest length of a UTF-8 string or binary data field (two-byte length prefix).
    static let maximumTwoByteLength = 65_535

    // MARK: variable byte integers

    /// Looks at the Variable Byte Integer at absolute index `index` without moving the reader index.
    ///
    /// - Returns: the value and the number of bytes it takes, or `nil` if the buffer ends before the
    ///   last byte of the integer.
    /// - Throws: `.malformedVariableByteInteger` for a fifth byte (a fourth byte with the continuation
    ///   bit, detected without waiting for more input) or a non-minimal encoding such as `80 00`.
    ///   [MQTT-1.5.5-1]
    @inline(__always)
    func getMQTTVariableByteInteger(at index: Int) throws(MQTTCodecError) -> (value: Int, length: Int)? {
        var value = 0
        for offset in 0..<4 {
            guard let byte = getInteger(at: index + offset, as: UInt8.self) else { return nil }
            value |= Int(byte & 0x7F) << (7 * offset)
            if byte & 0x80 == 0 {
                // A multi-byte integer whose last byte is 0 has a shorter encoding. [MQTT-1.5.5-1]
                if offset > 0 && byte == 0 {
                    throw .malformedVariableByteInteger("variable byte integer is not minimally encoded")
                }
                return (value, offset + 1)
            }
        }
        throw .malformedVariableByteInteger("variable byte integer longer than 4 bytes")
    }

    /// Reads a Variable Byte Integer inside a packet whose bytes are all present: running out is malformed.
    @inline(__always)
    mutating func readMQTTVariableByteInteger() throws(MQTTCodecError) -> Int {
        guard let (value, length) = try getMQTTVariableByteInteger(at: readerIndex) else {
            throw .malformedVariableByteInteger("variable byte integer runs past the end of the packet")
        }
        moveReaderIndex(forwardBy: length)
        return value
    }

    /// Writes `value` (0 ... 268,435,455, checked by the caller) in its minimal encoding.
    @inline(__always)
    mutating func writeMQTTVariableByteInteger(_ value: Int) {
        var remaining = value
        repeat {
            var byte = UInt8(truncatingIfNeeded: remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            writeInteger(byte)
        } while remaining > 0
    }

    /// The number of bytes `writeMQTTVariableByteInteger(value)` writes.
    @inline(__always)
    static func mqttVariableByteIntegerSize(_ value: Int) -> Int {
        switch value {
        case ..<128: return 1
        case ..<16_384: return 2
        case ..<2_097_152: return 3
        case ..<268_435_456: return 4
        default: return 5  // never written: callers reject such values as not encodable
        }
    }

    // MARK: fixed-size integers

    @inline(__always)
    mutating func readMQTTByte() throws(MQTTCodecError) -> UInt8 {
        guard let value = readInteger(as: UInt8.self) else { throw .malformed("packet ends inside a byte field") }
        return value
    }

    @inline(__always)
    mutating func readMQTTUInt16() throws(MQTTCodecError) -> UInt16 {
        guard let value = readInteger(as: UInt16.self) else { throw .malformed("packet ends inside a two-byte integer") }
        return value
    }

    @inline(__always)
    mutating func readMQTTUInt32() throws(MQTTCodecError) -> UInt32 {
        guard let value = readInteger(as: UInt32.self) else { throw .malformed("packet ends inside a four-byte integer") }
        return value
    }

    /// Reads a packet identifier and rejects 0. [MQTT-2.2.1-3]
    @inline(__always)
    mutating func readMQTTPacketIdentifier() throws(MQTTCodecError) -> UInt16 {
        let id = try readMQTTUInt16()
        guard id != 0 else { throw .invalidPacketIdentifier }
        return id
    }

    // MARK: UTF-8 strings and binary data

    /// Reads a two-byte length and checks it against what is left (CVE-2026-25627: a length prefix larger
    /// than the bytes present must never lead to a read past the packet).
    @inline(__always)
    mutating func readMQTTLengthPrefix() throws(MQTTCodecError) -> Int {
        let length = Int(try readMQTTUInt16())
        guard length <= readableBytes else { throw .malformed("length prefix larger than the bytes left") }
        return length
    }

    /// Reads a UTF-8 Encoded String: well-formed UTF-8 without U+0000. [MQTT-1.5.4-1] [MQTT-1.5.4-2]
    @inline(__always)
    mutating func readMQTTString() throws(MQTTCodecError) -> String {
        try readMQTTString(reportingWildcards: false).string
    }

    /// Reads a UTF-8 Encoded String and, in the same pass over its bytes, tells whether it contains the
    /// wildcard characters `+` or `#` (used for PUBLISH topic names, [MQTT-3.3.2-2]).
    mutating func readMQTTString(reportingWildcards: Bool) throws(MQTTCodecError) -> (string: String, hasWildcards: Bool) {
        let length = try readMQTTLengthPrefix()
        if length == 0 { return ("", false) }
        let decoded: (String, Bool)? = withUnsafeReadableBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[..<length])
            var sawNul = false
            var sawWildcard = false
            for byte in bytes {
                if byte == 0 { sawNul = true } else if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "#") { sawWildcard = true }
            }
            if sawNul { return nil }
            // Strict validation, no repair: overlong forms (C0 80), surrogates (ED A0 80) and code points
            // above U+10FFFF make this `nil`.
            guard let string = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else { return nil }
            return (string, sawWildcard)
        }
        guard let decoded else { throw .invalidUTF8 }
        moveReaderIndex(forwardBy: length)
        return decoded
    }

    /// Reads Binary Data as a slice of this buffer's storage (no copy).
    @inline(__always)
    mutating func readMQTTBinary() throws(MQTTCodecError) -> ByteBuffer {
        let length = try readMQTTLengthPrefix()
        // Cannot fail: the length was checked against readableBytes.
        guard let slice = readSlice(length: length) else { throw .malformed("binary data runs past the end of the packet") }
        return slice
    }

    /// Writes a UTF-8 Encoded String, or throws `.valueNotEncodable` if it is longer than 65,535 bytes.
    @inline(__always)
    mutating func writeMQTTString(_ string: String) throws(MQTTCodecError) {
        let length = string.utf8.count
        guard length <= Self.maximumTwoByteLength else { throw .valueNotEncodable("UTF-8 string longer than 65,535 bytes") }
        writeInteger(UInt16(truncatingIfNeeded: length))
        writeString(string)
    }

    /// Writes Binary Data, or throws `.valueNotEncodable` if it is longer than 65,535 bytes.
    @inline(__always)
    mutating func writeMQTTBinary(_ data: ByteBuffer) throws(MQTTCodecError) {
        let length = data.readableBytes
        guard length <= Self.maximumTwoByteLength else { throw .valueNotEncodable("binary data longer than 65,535 bytes") }
        writeInteger(UInt16(truncatingIfNeeded: length))
        writeImmutableBuffer(data)
    }

    /// Bytes taken by a UTF-8 Encoded String on the wire.
    @inline(__always)
    static func mqttStringSize(_ string: String) -> Int { 2 + string.utf8.count }

    /// Bytes taken by Binary Data on the wire.
    @inline(__always)
    static func mqttBinarySize(_ data: ByteBuffer) -> Int { 2 + data.readableBytes }

    /// Throws `.malformed` unless every byte of the packet body was read. Leftover bytes mean the
    /// declared structure and the Remaining Length disagree.
    @inline(__always)
    func expectMQTTEnd() throws(MQTTCodecError) {
        guard readableBytes == 0 else { throw .malformed("unexpected bytes after the end of the packet") }
    }
}
