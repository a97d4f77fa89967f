import NIOCore

/// PUBACK, PUBREC, PUBREL and PUBCOMP on the wire (3.1.1 §3.4-3.7, 5.0 §3.4-3.7).
extension MQTTAck {
    /// In 5.0 the Reason Code and Property Length may be omitted: Remaining Length 2 means Success with
    /// no properties, 3 means a Reason Code with no properties (5.0 §3.4.2.1, §3.4.2.2.1).
    static func decode(
        from body: inout ByteBuffer,
        context: MQTTPropertyContext,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTAck {
        let packetID = try body.readMQTTPacketIdentifier()
        var reasonCode = MQTTReasonCode.success
        var properties = MQTTProperties()
        if version.hasProperties && body.readableBytes > 0 {
            reasonCode = MQTTReasonCode(try body.readMQTTByte())
            if body.readableBytes > 0 {
                properties = try MQTTProperties.read(from: &body, context: context, configuration: configuration)
            }
        }
        try body.expectMQTTEnd()
        return MQTTAck(packetID: packetID, reasonCode: reasonCode, properties: properties)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        guard version.hasProperties else { return 2 }
        if !properties.isEmpty { return 3 + properties.mqttBlockSize }
        return reasonCode == .success ? 2 : 3
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard packetID != 0 else { throw .valueNotEncodable("packet identifier 0") }
        buffer.writeInteger(packetID)
        guard version.hasProperties else { return }
        if !properties.isEmpty {
            buffer.writeInteger(reasonCode.rawValue)
            try properties.write(into: &buffer)
        } else if reasonCode != .success {
            buffer.writeInteger(reasonCode.rawValue)
        }
    }
}
