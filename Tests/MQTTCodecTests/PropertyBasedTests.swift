import MQTTCodec
import NIOCore
import PropertyBased
import Testing

/// `decode(encode(p)) == p` for random valid packets of every type (the plan's 10,000 PR cases: 5,000
/// per version), in the spirit of EMQX's `prop_emqx_frame`.
@Suite("Property-based round trips")
struct PropertyBasedTests {
    static let casesPerVersion = 5_000

    @Test("random valid packets round-trip", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func randomPacketsRoundTrip(version: MQTTProtocolVersion) async {
        await propertyCheck(count: Self.casesPerVersion, input: RandomPackets.generator(version)) { packet in
            let bytes = try encodeChecked(packet, version: version)
            #expect(try decodeAll(bytes, version: version) == [packet])
        }
    }

    @Test("random packets back to back, cut at random points, decode in order")
    func randomStream() async {
        let input = zip(RandomPackets.generator(.v5).array(of: 1...20), Gen.int(in: 1...64))
        await propertyCheck(count: 200, input: input) { packets, chunk in
            var bytes: [UInt8] = []
            for packet in packets { bytes += try encodeChecked(packet, version: .v5) }
            var buffer = ByteBuffer()
            var decoded: [MQTTPacket] = []
            var offset = 0
            while offset < bytes.count {
                buffer.writeBytes(bytes[offset..<min(offset + chunk, bytes.count)])
                offset += chunk
                while let packet = try MQTTPacketDecoder.decode(from: &buffer, version: .v5) { decoded.append(packet) }
            }
            #expect(decoded == packets)
        }
    }

    @Test("random bytes never trap, and what decodes re-encodes", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func randomBytes(version: MQTTProtocolVersion) async {
        await propertyCheck(count: 2_000, input: Gen<UInt8>.value(in: 0...255).array(of: 0...64)) { bytes in
            var buffer = ByteBuffer(bytes: bytes)
            while true {
                guard let packet = try? MQTTPacketDecoder.decode(from: &buffer, version: version) else { break }
                expectReencodes(packet, version: version)
            }
        }
    }
}
