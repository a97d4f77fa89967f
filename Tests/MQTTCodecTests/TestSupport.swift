import MQTTCodec
import NIOCore
import Testing

/// Small builders for writing packets as bytes in tests, and the round-trip oracle.
enum Wire {
    /// A Variable Byte Integer in its minimal form.
    static func varint(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var remaining = value
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            bytes.append(byte)
        } while remaining > 0
        return bytes
    }

    /// A whole packet: first byte, minimal Remaining Length, body.
    static func packet(_ firstByte: UInt8, _ body: [UInt8]) -> [UInt8] {
        [firstByte] + varint(body.count) + body
    }

    /// A two-byte length prefix and the UTF-8 bytes of `string`.
    static func string(_ string: String) -> [UInt8] {
        raw(Array(string.utf8))
    }

    /// A two-byte length prefix and `bytes` (a UTF-8 string or binary data given as bytes).
    static func raw(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    /// A property block: varint length and the bytes.
    static func properties(_ bytes: [UInt8]) -> [UInt8] {
        varint(bytes.count) + bytes
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// CONNECT variable header up to and including Keep Alive.
    static func connectHeader(name: String = "MQTT", level: UInt8, flags: UInt8, keepAlive: UInt16 = 60) -> [UInt8] {
        string(name) + [level, flags] + u16(keepAlive)
    }
}

extension ByteBuffer {
    init(bytes: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: bytes.count)
        writeBytes(bytes)
    }

    var bytes: [UInt8] { Array(readableBytesView) }
}

extension MQTTProtocolVersion: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .v3_1: return "3.1"
        case .v3_1_1: return "3.1.1"
        case .v5: return "5.0"
        }
    }
}

/// Encodes `packet`, checks that `encodedSize` equals the bytes written, and returns the bytes.
func encodeChecked(_ packet: MQTTPacket, version: MQTTProtocolVersion, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try packet.encode(into: &buffer, version: version)
    #expect(buffer.readableBytes == packet.encodedSize(version: version), "encodedSize differs for \(packet.type)", sourceLocation: sourceLocation)
    return buffer.bytes
}

/// Decodes every packet in `bytes` until the decoder returns nil; fails the test on leftover bytes.
func decodeAll(_ bytes: [UInt8], version: MQTTProtocolVersion, configuration: MQTTDecoderConfiguration = .init()) throws -> [MQTTPacket] {
    var buffer = ByteBuffer(bytes: bytes)
    var packets: [MQTTPacket] = []
    while let packet = try MQTTPacketDecoder.decode(from: &buffer, version: version, configuration: configuration) {
        packets.append(packet)
    }
    #expect(buffer.readableBytes == 0, "bytes left over after decoding")
    return packets
}

/// The codec's round-trip oracle, also used by the fuzz harness: a packet the decoder accepted must
/// re-encode, the encoding must be `encodedSize` bytes, and decoding it must give an equal packet.
func expectReencodes(_ packet: MQTTPacket, version: MQTTProtocolVersion, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let bytes = try encodeChecked(packet, version: version, sourceLocation: sourceLocation)
        var buffer = ByteBuffer(bytes: bytes)
        let again = try MQTTPacketDecoder.decode(from: &buffer, version: version, configuration: .init(maximumPacketSize: .max))
        #expect(again == packet, sourceLocation: sourceLocation)
        #expect(buffer.readableBytes == 0, sourceLocation: sourceLocation)
    } catch {
        Issue.record("accepted packet does not round-trip: \(error)", sourceLocation: sourceLocation)
    }
}
