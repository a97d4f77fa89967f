import MQTTCodec
import NIOCore
import Testing

/// The decoder on a byte stream: partial input returns nil and consumes nothing.
@Suite("Streaming")
struct StreamingTests {
    static let cases: [(MQTTProtocolVersion, String)] =
        SamplePackets.v3.map { (.v3_1_1, $0.name) } + SamplePackets.v5.map { (.v5, $0.name) }

    static func sample(_ version: MQTTProtocolVersion, _ name: String) throws -> MQTTPacket {
        try #require(SamplePackets.all(for: version).first { $0.name == name }?.packet)
    }

    @Test("one byte at a time: nil until the last byte, nothing consumed", arguments: cases)
    func byteAtATime(version: MQTTProtocolVersion, name: String) throws {
        let packet = try Self.sample(version, name)
        let bytes = try encodeChecked(packet, version: version)
        var buffer = ByteBuffer()
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            let readerIndex = buffer.readerIndex
            let decoded = try MQTTPacketDecoder.decode(from: &buffer, version: version)
            if index < bytes.count - 1 {
                #expect(decoded == nil)
                #expect(buffer.readerIndex == readerIndex)
                #expect(buffer.readableBytes == index + 1)
            } else {
                #expect(decoded == packet)
                #expect(buffer.readableBytes == 0)
            }
        }
    }

    @Test("the fixed header is readable before the body", arguments: cases)
    func peekHeader(version: MQTTProtocolVersion, name: String) throws {
        let packet = try Self.sample(version, name)
        let bytes = try encodeChecked(packet, version: version)
        let header = try #require(try MQTTPacketDecoder.peekFixedHeader(
            in: ByteBuffer(bytes: Array(bytes.prefix(5))), maximumPacketSize: .max))
        #expect(header.type == packet.type)
        #expect(header.totalLength == bytes.count)
        #expect(try MQTTPacketDecoder.peekFixedHeader(in: ByteBuffer(bytes: [bytes[0]]), maximumPacketSize: .max) == nil)
    }

    @Test("all packets of a version back to back in one buffer", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func backToBack(version: MQTTProtocolVersion) throws {
        let packets = SamplePackets.all(for: version).map(\.packet)
        var bytes: [UInt8] = []
        for packet in packets { bytes += try encodeChecked(packet, version: version) }
        #expect(try decodeAll(bytes, version: version) == packets)
    }

    @Test("back to back, delivered in chunks of 7 bytes", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func chunked(version: MQTTProtocolVersion) throws {
        let packets = SamplePackets.all(for: version).map(\.packet)
        var bytes: [UInt8] = []
        for packet in packets { bytes += try encodeChecked(packet, version: version) }
        var buffer = ByteBuffer()
        var decoded: [MQTTPacket] = []
        var offset = 0
        while offset < bytes.count {
            buffer.writeBytes(bytes[offset..<min(offset + 7, bytes.count)])
            offset += 7
            while let packet = try MQTTPacketDecoder.decode(from: &buffer, version: version) { decoded.append(packet) }
        }
        #expect(decoded == packets)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a CONNECT is decoded by its own level whatever the connection version")
    func connectIgnoresVersion() throws {
        for (_, packet) in SamplePackets.v3 + SamplePackets.v5 {
            guard case .connect(let connect) = packet else { continue }
            let bytes = try encodeChecked(packet, version: connect.protocolVersion)
            for version in MQTTProtocolVersion.allCases {
                #expect(try decodeAll(bytes, version: version) == [packet])
            }
        }
    }
}
