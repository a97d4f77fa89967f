import NIOCore

/// PUBLISH on the wire (3.1.1 §3.3, 5.0 §3.3).
extension MQTTPublish {
    /// Decodes a PUBLISH body. The flags were checked with the fixed header (QoS 3, DUP at QoS 0).
    ///
    /// A topic containing `+` or `#` is reported after the whole packet was read, as `.topicNameInvalid`
    /// (0x90) with `packetConsumed`, `packetID` and `publishQoS` set, so that a 5.0 broker can answer
    /// PUBACK/PUBREC 0x90 at QoS > 0 and stay connected (M15). An empty topic is allowed only in 5.0
    /// with a Topic Alias (CVE-2021-34432, M14).
    static func decode(
        from body: inout ByteBuffer,
        flags: UInt8,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTPublish {
        guard let qos = MQTTQoS(rawValue: (flags >> 1) & 0x03) else { throw .invalidFlags("PUBLISH with QoS 3") }
        // Invalid UTF-8 is malformed and never forwarded (CVE-2017-7653, M12).
        let (topic, hasWildcards) = try body.readMQTTString(reportingWildcards: true)
        // [MQTT-2.2.1-2] a packet identifier exactly when QoS > 0; [MQTT-2.2.1-3] never 0 (M19).
        let packetID: UInt16? = qos == .atMostOnce ? nil : try body.readMQTTPacketIdentifier()
        let properties = version.hasProperties
            ? try MQTTProperties.read(from: &body, context: .publish, configuration: configuration) : MQTTProperties()
        // The rest is the payload, a slice of the received bytes.
        let payload = body.readSlice(length: body.readableBytes) ?? ByteBuffer()
        if hasWildcards {
            // [MQTT-3.3.2-2] The Topic Name in the PUBLISH packet MUST NOT contain wildcard characters.
            throw MQTTCodecError(
                .topicNameInvalid, reasonCode: .topicNameInvalid, message: "PUBLISH topic contains a wildcard",
                packetID: packetID, packetConsumed: true, publishQoS: qos)
        }
        if topic.isEmpty && (!version.hasProperties || properties.topicAlias == nil) {
            // 5.0 §3.3.2.1: "It is a Protocol Error if the Topic Name is zero length and there is no Topic
            // Alias." 3.1.1 [MQTT-4.7.3-1]: topic names are at least one character long.
            throw MQTTCodecError(.topicNameInvalid, reasonCode: .protocolError, message: "PUBLISH topic is empty")
        }
        return MQTTPublish(
            topic: topic, payload: payload, qos: qos, retain: flags & 0x01 != 0, dup: flags & 0x08 != 0,
            packetID: packetID, properties: properties)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        var size = ByteBuffer.mqttStringSize(topic)
        if qos != .atMostOnce { size += 2 }
        if version.hasProperties { size += properties.mqttBlockSize }
        return size + payload.readableBytes
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        if qos == .atMostOnce {
            guard packetID == nil else { throw .valueNotEncodable("QoS 0 PUBLISH with a packet identifier") }
            guard !dup else { throw .valueNotEncodable("QoS 0 PUBLISH with DUP set") }
        }
        try buffer.writeMQTTString(topic)
        if qos != .atMostOnce {
            guard let packetID, packetID != 0 else { throw .valueNotEncodable("QoS > 0 PUBLISH without a non-zero packet identifier") }
            buffer.writeInteger(packetID)
        }
        if version.hasProperties { try properties.write(into: &buffer) }
        buffer.writeImmutableBuffer(payload)
    }
}
