import NIOCore

/// SUBACK on the wire (3.1.1 §3.9, 5.0 §3.9).
extension MQTTSubAck {
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTSubAck {
        let packetID = try body.readMQTTPacketIdentifier()
        let properties = version.hasProperties
            ? try MQTTProperties.read(from: &body, context: .subAck, configuration: configuration) : MQTTProperties()
        let reasonCodes = try readReasonCodes(from: &body)
        if !version.hasProperties {
            // 3.1.1 [MQTT-3.9.3-2]: SUBACK return codes other than 0x00, 0x01, 0x02 and 0x80 are reserved.
            for code in reasonCodes where code.rawValue > 2 && code.rawValue != 0x80 {
                throw .malformed("reserved SUBACK return code")
            }
        }
        return MQTTSubAck(packetID: packetID, properties: properties, reasonCodes: reasonCodes)
    }

    /// Reads the rest of the packet as one reason code per byte; there must be at least one, since the
    /// SUBSCRIBE (or UNSUBSCRIBE) it answers had at least one filter.
    static func readReasonCodes(from body: inout ByteBuffer) throws(MQTTCodecError) -> [MQTTReasonCode] {
        guard body.readableBytes > 0 else { throw .protocolError("acknowledgement without reason codes") }
        var codes: [MQTTReasonCode] = []
        codes.reserveCapacity(body.readableBytes)  // bytes present, not a declared length
        while let byte = body.readInteger(as: UInt8.self) { codes.append(MQTTReasonCode(byte)) }
        return codes
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        2 + (version.hasProperties ? properties.mqttBlockSize : 0) + reasonCodes.count
    }

    /// 3.1.1 writes any failure code as 0x80.
    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard packetID != 0 else { throw .valueNotEncodable("packet identifier 0") }
        guard !reasonCodes.isEmpty else { throw .valueNotEncodable("SUBACK without reason codes") }
        buffer.writeInteger(packetID)
        if version.hasProperties {
            try properties.write(into: &buffer)
            for code in reasonCodes { buffer.writeInteger(code.rawValue) }
        } else {
            for code in reasonCodes {
                if code.isFailure {
                    buffer.writeInteger(0x80 as UInt8)
                } else {
                    guard code.rawValue <= 2 else { throw .valueNotEncodable("SUBACK code has no 3.1.1 form") }
                    buffer.writeInteger(code.rawValue)
                }
            }
        }
    }
}
