import NIOCore

/// UNSUBSCRIBE on the wire (3.1.1 §3.10, 5.0 §3.10).
extension MQTTUnsubscribe {
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTUnsubscribe {
        let packetID = try body.readMQTTPacketIdentifier()
        let properties = version.hasProperties
            ? try MQTTProperties.read(from: &body, context: .unsubscribe, configuration: configuration) : MQTTProperties()
        var filters: [String] = []
        while body.readableBytes > 0 { filters.append(try body.readMQTTString()) }
        // [MQTT-3.10.3-2] at least one topic filter.
        guard !filters.isEmpty else { throw .protocolError("UNSUBSCRIBE without a topic filter") }
        return MQTTUnsubscribe(packetID: packetID, properties: properties, topicFilters: filters)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        var size = 2
        if version.hasProperties { size += properties.mqttBlockSize }
        for filter in topicFilters { size += ByteBuffer.mqttStringSize(filter) }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard packetID != 0 else { throw .valueNotEncodable("packet identifier 0") }
        guard !topicFilters.isEmpty else { throw .valueNotEncodable("UNSUBSCRIBE without a topic filter") }
        buffer.writeInteger(packetID)
        if version.hasProperties { try properties.write(into: &buffer) }
        for filter in topicFilters { try buffer.writeMQTTString(filter) }
    }
}
