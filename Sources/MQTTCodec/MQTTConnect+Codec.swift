import NIOCore

/// CONNECT on the wire (3.1.1 §3.1, 5.0 §3.1).
extension MQTTConnect {
    private enum Flag {
        static let reserved: UInt8 = 0x01
        static let cleanStart: UInt8 = 0x02
        static let will: UInt8 = 0x04
        static let willQoSShift: UInt8 = 3
        static let willRetain: UInt8 = 0x20
        static let password: UInt8 = 0x40
        static let username: UInt8 = 0x80
    }

    /// "MQTT" and "MQIsdp" as big-endian integers, compared without building a `String`.
    private static let nameMQTT: UInt32 = 0x4D51_5454
    private static let nameMQIsdpHead: UInt32 = 0x4D51_4973  // "MQIs"
    private static let nameMQIsdpTail: UInt16 = 0x6470  // "dp"

    /// Reads Protocol Name and Protocol Level. `MQTT`/4 is 3.1.1, `MQTT`/5 is 5.0 and `MQIsdp`/3 is 3.1;
    /// anything else is `.unsupportedProtocolVersion` carrying the level byte (M6). [MQTT-3.1.2-1] [MQTT-3.1.2-2]
    static func readProtocolVersion(from body: inout ByteBuffer) throws(MQTTCodecError) -> MQTTProtocolVersion {
        let nameLength = try body.readMQTTLengthPrefix()
        guard var name = body.readSlice(length: nameLength) else { throw .malformed("protocol name runs past the packet") }
        let level = try body.readMQTTByte()
        switch (nameLength, level) {
        case (4, 4) where name.readInteger(as: UInt32.self) == nameMQTT: return .v3_1_1
        case (4, 5) where name.readInteger(as: UInt32.self) == nameMQTT: return .v5
        case (6, 3) where name.readInteger(as: UInt32.self) == nameMQIsdpHead && name.readInteger(as: UInt16.self) == nameMQIsdpTail:
            return .v3_1
        default: throw .unsupportedProtocolVersion(level: level)
        }
    }

    /// Decodes the body of a CONNECT according to its own protocol level.
    static func decode(from body: inout ByteBuffer, configuration: MQTTDecoderConfiguration) throws(MQTTCodecError) -> MQTTConnect {
        let version = try readProtocolVersion(from: &body)
        let flags = try body.readMQTTByte()
        // [MQTT-3.1.2-3] The Server MUST validate that the reserved flag is 0 (M7).
        guard flags & Flag.reserved == 0 else { throw .invalidFlags("CONNECT reserved flag set") }
        let hasWill = flags & Flag.will != 0
        let willQoSBits = (flags >> Flag.willQoSShift) & 0x03
        let willRetain = flags & Flag.willRetain != 0
        let hasPassword = flags & Flag.password != 0
        let hasUsername = flags & Flag.username != 0
        // 5.0 [MQTT-3.1.2-12] / 3.1.1 [MQTT-3.1.2-14]: Will QoS 3 is malformed (M9).
        guard willQoSBits != 3, let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .invalidFlags("Will QoS 3") }
        // 5.0 [MQTT-3.1.2-11] [MQTT-3.1.2-13] / 3.1.1 [MQTT-3.1.2-13] [MQTT-3.1.2-15]: without a Will,
        // Will QoS and Will Retain must be 0 (M9).
        guard hasWill || (willQoSBits == 0 && !willRetain) else { throw .invalidFlags("Will QoS or Retain set without a Will") }
        // 3.1.1 [MQTT-3.1.2-22]: no password without a user name (5.0 allows it) (M8).
        guard version.hasProperties || hasUsername || !hasPassword else {
            throw .invalidFlags("password flag set without user name flag")
        }
        let keepAlive = try body.readMQTTUInt16()
        let properties = version.hasProperties
            ? try MQTTProperties.read(from: &body, context: .connect, configuration: configuration) : MQTTProperties()
        // May be empty; whether that is acceptable is the broker's decision (M11).
        let clientID = try body.readMQTTString()
        var will: MQTTWill?
        if hasWill {
            // Only Will properties are legal here (CVE-2023-3592).
            let willProperties = version.hasProperties
                ? try MQTTProperties.read(from: &body, context: .will, configuration: configuration) : MQTTProperties()
            let topic = try body.readMQTTString()
            let payload = try body.readMQTTBinary()
            will = MQTTWill(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        let username = hasUsername ? try body.readMQTTString() : nil
        let password = hasPassword ? try body.readMQTTBinary() : nil
        try body.expectMQTTEnd()
        return MQTTConnect(
            protocolVersion: version, cleanStart: flags & Flag.cleanStart != 0, keepAlive: keepAlive,
            properties: properties, clientID: clientID, will: will, username: username, password: password)
    }

    /// Remaining Length of this CONNECT in the format of its own `protocolVersion`.
    var bodySize: Int {
        let v5 = protocolVersion.hasProperties
        var size = ByteBuffer.mqttStringSize(protocolVersion.protocolName) + 1 + 1 + 2
        if v5 { size += properties.mqttBlockSize }
        size += ByteBuffer.mqttStringSize(clientID)
        if let will {
            if v5 { size += will.properties.mqttBlockSize }
            size += ByteBuffer.mqttStringSize(will.topic) + ByteBuffer.mqttBinarySize(will.payload)
        }
        if let username { size += ByteBuffer.mqttStringSize(username) }
        if let password { size += ByteBuffer.mqttBinarySize(password) }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer) throws(MQTTCodecError) {
        let v5 = protocolVersion.hasProperties
        guard v5 || username != nil || password == nil else {
            throw .valueNotEncodable("MQTT 3.1.1 cannot carry a password without a user name")
        }
        try buffer.writeMQTTString(protocolVersion.protocolName)
        buffer.writeInteger(protocolVersion.rawValue)
        var flags: UInt8 = cleanStart ? Flag.cleanStart : 0
        if let will {
            flags |= Flag.will | will.qos.rawValue << Flag.willQoSShift | (will.retain ? Flag.willRetain : 0)
        }
        if username != nil { flags |= Flag.username }
        if password != nil { flags |= Flag.password }
        buffer.writeInteger(flags)
        buffer.writeInteger(keepAlive)
        if v5 { try properties.write(into: &buffer) }
        try buffer.writeMQTTString(clientID)
        if let will {
            if v5 { try will.properties.write(into: &buffer) }
            try buffer.writeMQTTString(will.topic)
            try buffer.writeMQTTBinary(will.payload)
        }
        if let username { try buffer.writeMQTTString(username) }
        if let password { try buffer.writeMQTTBinary(password) }
    }
}
