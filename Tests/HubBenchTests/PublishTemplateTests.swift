import MQTTCodec
import NIOCore
import Testing

@testable import HubBench

@Suite("PublishTemplate")
struct PublishTemplateTests {
    @Test("patched copies decode as PUBLISHes with the packet id and sequence", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func patchesDecode(version: MQTTProtocolVersion) throws {
        let payload = try TelemetryPayload(size: 200, deviceID: "dev-7", time: 1_795_514_400, seed: 1)
        let template = try PublishTemplate(topic: "devices/dev-7/messages/events/", payload: payload, qos: .atLeastOnce, version: version)
        var buffer = ByteBuffer()
        template.write(into: &buffer, packetID: 0x1234, sequence: 0xABC)
        template.write(into: &buffer, packetID: 65_535, sequence: 0xFFFF_FFFF_FFFF)
        #expect(buffer.readableBytes == 2 * template.size)
        for (id, digits) in [(UInt16(0x1234), "000000000abc"), (65_535, "ffffffffffff")] {
            let packet = try #require(try MQTTPacketDecoder.decode(from: &buffer, version: version))
            guard case .publish(let publish) = packet else {
                Issue.record("not a PUBLISH: \(packet)")
                return
            }
            #expect(publish.packetID == id)
            #expect(publish.qos == .atLeastOnce)
            #expect(publish.topic == "devices/dev-7/messages/events/")
            let text = String(buffer: publish.payload)
            #expect(text.count == 200)
            #expect(text.contains("-\(digits)\""))
        }
        #expect(buffer.readableBytes == 0)
    }

    @Test("QoS 0 templates have no packet id")
    func qos0() throws {
        let payload = try TelemetryPayload(size: 64, deviceID: "d", time: 0, seed: 1)
        let template = try PublishTemplate(topic: "d/telemetry", payload: payload, qos: .atMostOnce, version: .v3_1_1)
        #expect(template.packetIDOffset == nil)
        var buffer = ByteBuffer()
        template.write(into: &buffer, packetID: 0, sequence: 5)
        let packet = try #require(try MQTTPacketDecoder.decode(from: &buffer, version: .v3_1_1))
        guard case .publish(let publish) = packet else {
            Issue.record("not a PUBLISH")
            return
        }
        #expect(publish.packetID == nil)
        #expect(publish.payload.readableBytes == 64)
    }
}
