import NIOCore

/// DISCONNECT on the wire (3.1.1 §3.14, 5.0 §3.14).
extension MQTTDisconnect {
    /// 3.1.1: no body at all. 5.0: Remaining Length 0 means Normal disconnection without properties, 1
    /// means a Reason Code without properties (5.0 §3.14.2.1, §3.14.2.2.1).
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTDisconnect {
        var result = MQTTDisconnect()
        if version.hasProperties {
            (result.reasonCode, result.properties) = try readOptionalReasonAndProperties(
                from: &body, context: .disconnect, configuration: configuration)
        }
        try body.expectMQTTEnd()
        return result
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        version.hasProperties ? optionalReasonAndPropertiesSize(reasonCode, properties) : 0
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard version.hasProperties else { return }
        try writeOptionalReasonAndProperties(reasonCode, properties, into: &buffer)
    }
}

/// AUTH on the wire (5.0 §3.15; it does not exist in 3.1.1, where type 15 is reserved).
extension MQTTAuth {
    /// Remaining Length 0 means Success without properties (5.0 §3.15.2.1).
    static func decode(from body: inout ByteBuffer, configuration: MQTTDecoderConfiguration) throws(MQTTCodecError) -> MQTTAuth {
        var result = MQTTAuth()
        (result.reasonCode, result.properties) = try readOptionalReasonAndProperties(
            from: &body, context: .auth, configuration: configuration)
        try body.expectMQTTEnd()
        return result
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        optionalReasonAndPropertiesSize(reasonCode, properties)
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard version.hasProperties else { throw .valueNotEncodable("AUTH does not exist in MQTT 3.1.1") }
        try writeOptionalReasonAndProperties(reasonCode, properties, into: &buffer)
    }
}

// MARK: the optional "Reason Code, then Properties" tail shared by DISCONNECT and AUTH

/// Reads a Reason Code and a property block, each of which may be left out at the end of the packet.
private func readOptionalReasonAndProperties(
    from body: inout ByteBuffer,
    context: MQTTPropertyContext,
    configuration: MQTTDecoderConfiguration
) throws(MQTTCodecError) -> (MQTTReasonCode, MQTTProperties) {
    guard body.readableBytes > 0 else { return (.success, MQTTProperties()) }
    let reasonCode = MQTTReasonCode(try body.readMQTTByte())
    guard body.readableBytes > 0 else { return (reasonCode, MQTTProperties()) }
    return (reasonCode, try MQTTProperties.read(from: &body, context: context, configuration: configuration))
}

/// Bytes of the shortest form the spec allows: nothing for Success (0x00) without properties, the
/// Reason Code alone without properties, or both.
private func optionalReasonAndPropertiesSize(_ reasonCode: MQTTReasonCode, _ properties: MQTTProperties) -> Int {
    if !properties.isEmpty { return 1 + properties.mqttBlockSize }
    return reasonCode == .success ? 0 : 1
}

private func writeOptionalReasonAndProperties(
    _ reasonCode: MQTTReasonCode,
    _ properties: MQTTProperties,
    into buffer: inout ByteBuffer
) throws(MQTTCodecError) {
    if !properties.isEmpty {
        buffer.writeInteger(reasonCode.rawValue)
        try properties.write(into: &buffer)
    } else if reasonCode != .success {
        buffer.writeInteger(reasonCode.rawValue)
    }
}
