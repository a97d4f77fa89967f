import MQTTCodec
import NIOCore

/// One PUBLISH packet encoded once with MQTTCodec, copied into the send buffer for every message with
/// only its packet identifier and the payload's sequence number patched in place: no packet values,
/// strings or encoder calls per message.
struct PublishTemplate: Sendable {
    /// The whole packet, fixed header included.
    let bytes: ByteBuffer
    /// Offset of the two-byte packet identifier, nil at QoS 0.
    let packetIDOffset: Int?
    /// Offset of the payload's twelve sequence digits, nil when the payload has none.
    let sequenceOffset: Int?

    /// Bytes of one packet on the wire.
    var size: Int { bytes.readableBytes }

    init(topic: String, payload: TelemetryPayload, qos: MQTTQoS, version: MQTTProtocolVersion) throws(BenchError) {
        let publish = MQTTPublish(
            topic: topic, payload: ByteBuffer(bytes: payload.bytes), qos: qos, packetID: qos == .atMostOnce ? nil : 1)
        var buffer = ByteBuffer()
        do {
            try MQTTPacket.publish(publish).encode(into: &buffer, version: version)
        } catch {
            throw .invalid("cannot encode a PUBLISH to \(topic): \(error)")
        }
        let header: MQTTFixedHeader?
        do {
            header = try MQTTPacketDecoder.peekFixedHeader(in: buffer, maximumPacketSize: .max)
        } catch {
            throw .invalid("cannot read back the PUBLISH header: \(error)")
        }
        guard let header else { throw .invalid("cannot read back the PUBLISH header") }
        // Variable header: topic (2-byte length + UTF-8), then the packet identifier. [MQTT-3.3.2]
        packetIDOffset = qos == .atMostOnce ? nil : header.headerLength + 2 + topic.utf8.count
        // The payload is the packet's tail.
        let payloadOffset = buffer.readableBytes - payload.bytes.count
        sequenceOffset = payload.sequenceOffset.map { payloadOffset + $0 }
        bytes = buffer
    }

    /// Appends the packet for message `sequence` with `packetID` to `buffer`.
    @inline(__always)
    func write(into buffer: inout ByteBuffer, packetID: UInt16, sequence: UInt64) {
        let start = buffer.writerIndex
        buffer.writeImmutableBuffer(bytes)
        if let packetIDOffset { buffer.setInteger(packetID, at: start + packetIDOffset) }
        if let sequenceOffset {
            let digits = TelemetryPayload.sequenceDigits
            let base = start - buffer.readerIndex + sequenceOffset
            buffer.withUnsafeMutableReadableBytes { raw in
                var n = sequence
                for i in stride(from: digits - 1, through: 0, by: -1) {
                    raw[base + i] = TelemetryPayload.hexDigit(n & 0xF)
                    n >>= 4
                }
            }
        }
    }
}
