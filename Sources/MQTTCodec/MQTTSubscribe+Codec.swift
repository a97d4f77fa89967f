import NIOCore

/// SUBSCRIBE on the wire (3.1.1 §3.8, 5.0 §3.8).
///
/// Topic filters are only checked for UTF-8 validity here: the broker answers a bad filter with SUBACK
/// 0x8F (0x80 in 3.1.1) for that filter alone, using `MQTTTopic.parseFilter` (M21, M25).
extension MQTTSubscribe {
    static func decode(
        from body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTSubscribe {
        let packetID = try body.readMQTTPacketIdentifier()
        let properties = version.hasProperties
            ? try MQTTProperties.read(from: &body, context: .subscribe, configuration: configuration) : MQTTProperties()
        var subscriptions: [MQTTSubscription] = []
        while body.readableBytes > 0 {
            let filter = try body.readMQTTString()
            let options = try MQTTSubscriptionOptions(wireValue: try body.readMQTTByte(), version: version)
            subscriptions.append(MQTTSubscription(topicFilter: filter, options: options))
        }
        // 5.0 [MQTT-3.8.3-2] / 3.1.1 [MQTT-3.8.3-3]: at least one filter (M23).
        guard !subscriptions.isEmpty else { throw .protocolError("SUBSCRIBE without a topic filter") }
        return MQTTSubscribe(packetID: packetID, properties: properties, subscriptions: subscriptions)
    }

    func bodySize(version: MQTTProtocolVersion) -> Int {
        var size = 2
        if version.hasProperties { size += properties.mqttBlockSize }
        for subscription in subscriptions { size += ByteBuffer.mqttStringSize(subscription.topicFilter) + 1 }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        guard packetID != 0 else { throw .valueNotEncodable("packet identifier 0") }
        guard !subscriptions.isEmpty else { throw .valueNotEncodable("SUBSCRIBE without a topic filter") }
        buffer.writeInteger(packetID)
        if version.hasProperties { try properties.write(into: &buffer) }
        for subscription in subscriptions {
            try buffer.writeMQTTString(subscription.topicFilter)
            buffer.writeInteger(subscription.options.wireValue(version: version))
        }
    }
}

extension MQTTSubscriptionOptions {
    /// Parses the options byte (5.0 §3.8.3.1; in 3.1.1 only the Requested QoS exists).
    ///
    /// Reserved bits, QoS 3 and Retain Handling 3 are all reported as malformed (0x81), as the reliability
    /// plan's M24 asks. (5.0 itself calls QoS 3 and Retain Handling 3 a Protocol Error; both close the
    /// connection.)
    init(wireValue byte: UInt8, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        if version.hasProperties {
            // [MQTT-3.8.3-5] reserved bits 6 and 7 must be 0.
            guard byte & 0xC0 == 0 else { throw .malformed("subscription options reserved bits set") }
        } else {
            // 3.1.1 [MQTT-3-8.3-4]: the upper 6 bits of the Requested QoS byte must be 0.
            guard byte & 0xFC == 0 else { throw .malformed("subscription options reserved bits set") }
        }
        guard let qos = MQTTQoS(rawValue: byte & 0x03) else { throw .malformed("subscription with QoS 3") }
        guard let retainHandling = RetainHandling(rawValue: (byte >> 4) & 0x03) else {
            throw .malformed("subscription with Retain Handling 3")
        }
        self.init(qos: qos, noLocal: byte & 0x04 != 0, retainAsPublished: byte & 0x08 != 0, retainHandling: retainHandling)
    }

    /// The options byte. 3.1.1 carries only the QoS; the 5.0-only options are not written for it.
    func wireValue(version: MQTTProtocolVersion) -> UInt8 {
        guard version.hasProperties else { return qos.rawValue }
        return qos.rawValue | (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | retainHandling.rawValue << 4
    }
}
