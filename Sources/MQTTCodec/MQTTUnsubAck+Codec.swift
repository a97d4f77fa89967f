import NIOCore

/// UNSUBACK on the wire (3.1.1 §3.11, 5.0 §3.11). 3.1.1 carries only the packet identifier.
extension MQTTUnsubAck {
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTUnsubAck {
        let packetID = try body.readMQTTPacketIdentifier()
        guard version.hasProperties else {
            try body.expectMQTTEnd()
            return MQTTUnsubAck(packetID: packetID)
        }
        let properties = try MQTTProperties.read(from: &body, context: .unsubAck, configuration: configuration)
        let reasonCodes = try MQTTSubAck.readReasonCodes(from: &body)
        return MQTTUnsubAck(packetID: packetID, properties: properties, reasonCodes: reasonCodes)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        version.hasProperties ? 2 + properties.mqttBlockSize + reasonCodes.count : 2
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard packetID != 0 else { throw .valueNotEncodable("packet identifier 0") }
        buffer.writeInteger(packetID)
        guard version.hasProperties else { return }
        guard !reasonCodes.isEmpty else { throw .valueNotEncodable("UNSUBACK without reason codes") }
        try properties.write(into: &buffer)
        for code in reasonCodes { buffer.writeInteger(code.rawValue) }
    }
}
