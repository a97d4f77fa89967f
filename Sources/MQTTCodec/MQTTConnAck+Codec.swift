import NIOCore

/// CONNACK on the wire (3.1.1 §3.2, 5.0 §3.2).
extension MQTTConnAck {
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTConnAck {
        let acknowledgeFlags = try body.readMQTTByte()
        // Bits 7-1 of the Connect Acknowledge Flags are reserved. 5.0 [MQTT-3.2.2-1]
        guard acknowledgeFlags & 0xFE == 0 else { throw .invalidFlags("CONNACK reserved flags set") }
        let code = try body.readMQTTByte()
        let reasonCode: MQTTReasonCode
        var properties = MQTTProperties()
        if version.hasProperties {
            reasonCode = MQTTReasonCode(code)
            properties = try MQTTProperties.read(from: &body, context: .connAck, configuration: configuration)
        } else {
            // 3.1.1 §3.2.2.3: return codes 6-255 are reserved.
            guard code <= 5 else { throw .malformed("reserved CONNACK return code") }
            reasonCode = MQTTReasonCode(connectReturnCodeV3: code)
        }
        try body.expectMQTTEnd()
        return MQTTConnAck(sessionPresent: acknowledgeFlags & 0x01 != 0, reasonCode: reasonCode, properties: properties)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        version.hasProperties ? 2 + properties.mqttBlockSize : 2
    }

    /// For 3.1.1 the reason code is written as `connectReturnCodeV3`.
    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        buffer.writeInteger(sessionPresent ? 1 as UInt8 : 0)
        if version.hasProperties {
            buffer.writeInteger(reasonCode.rawValue)
            try properties.write(into: &buffer)
        } else {
            buffer.writeInteger(reasonCode.connectReturnCodeV3)
        }
    }
}
