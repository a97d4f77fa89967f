import NIOCore

/// Reading and writing the MQTT 5.0 property block (5.0 §2.2.2): a Variable Byte Integer length and
/// then identifier/value pairs.
extension MQTTProperties {
    /// Reads a property block and checks it for `context`.
    ///
    /// - Property Length: at most 4 bytes and minimal (CVE-2026-21888), and no larger than what is
    ///   left of the packet → 0x81.
    /// - Unknown identifier → `.unknownProperty` 0x81; identifier not valid in `context` →
    ///   `.propertyNotAllowed` 0x81 (5.0 §2.2.2.2); a non-repeatable property twice →
    ///   `.duplicateProperty` 0x82; a value out of range → `.invalidPropertyValue` 0x82; more User
    ///   Properties than `configuration.maximumUserProperties` → `.tooManyUserProperties` 0x81 (M36).
    static func read(
        from buffer: inout ByteBuffer,
        context: MQTTPropertyContext,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTProperties {
        let length = try buffer.readMQTTVariableByteInteger()
        if length == 0 { return MQTTProperties() }
        guard length <= buffer.readableBytes, var block = buffer.readSlice(length: length) else {
            throw .malformed("property length larger than the bytes left")
        }
        let allowed = context.allowedProperties
        var seen = MQTTPropertyContext.IdentifierSet(bits: 0)
        var userProperties = 0
        var elements: [MQTTProperty] = []
        while block.readableBytes > 0 {
            // The identifier is a Variable Byte Integer, but every defined identifier fits in one byte;
            // a first byte with the continuation bit is therefore unknown as well.
            let raw = try block.readMQTTByte()
            guard let id = MQTTPropertyIdentifier(rawValue: raw) else {
                throw MQTTCodecError(.unknownProperty, reasonCode: .malformedPacket, message: "unknown property identifier")
            }
            guard allowed.contains(id) else {
                throw MQTTCodecError(
                    .propertyNotAllowed, reasonCode: .malformedPacket, message: "property not valid in this packet")
            }
            if seen.contains(id) && !context.allowsRepeated(id) {
                throw MQTTCodecError(.duplicateProperty, reasonCode: .protocolError, message: "property included more than once")
            }
            seen.insert(id)
            if id == .userProperty {
                userProperties += 1
                guard userProperties <= configuration.maximumUserProperties else {
                    throw MQTTCodecError(.tooManyUserProperties, reasonCode: .malformedPacket, message: "too many user properties")
                }
            }
            elements.append(try readValue(of: id, from: &block))
        }
        return MQTTProperties(elements)
    }

    private static func invalidValue(_ message: String) -> MQTTCodecError {
        MQTTCodecError(.invalidPropertyValue, reasonCode: .protocolError, message: message)
    }

    /// A byte property whose only legal values are 0 and 1.
    @inline(__always)
    private static func readBoolean(from block: inout ByteBuffer) throws(MQTTCodecError) -> UInt8 {
        let value = try block.readMQTTByte()
        guard value <= 1 else { throw invalidValue("property value must be 0 or 1") }
        return value
    }

    private static func readValue(of id: MQTTPropertyIdentifier, from block: inout ByteBuffer) throws(MQTTCodecError) -> MQTTProperty {
        switch id {
        case .payloadFormatIndicator: return .payloadFormatIndicator(try readBoolean(from: &block))
        case .messageExpiryInterval: return .messageExpiryInterval(try block.readMQTTUInt32())
        case .contentType: return .contentType(try block.readMQTTString())
        case .responseTopic: return .responseTopic(try block.readMQTTString())
        case .correlationData: return .correlationData(try block.readMQTTBinary())
        case .subscriptionIdentifier:
            let value = try block.readMQTTVariableByteInteger()
            // "It is a Protocol Error if the Subscription Identifier has a value of 0." (5.0 §3.8.2.1.2)
            guard value != 0 else { throw invalidValue("subscription identifier 0") }
            return .subscriptionIdentifier(UInt32(value))
        case .sessionExpiryInterval: return .sessionExpiryInterval(try block.readMQTTUInt32())
        case .assignedClientIdentifier: return .assignedClientIdentifier(try block.readMQTTString())
        case .serverKeepAlive: return .serverKeepAlive(try block.readMQTTUInt16())
        case .authenticationMethod: return .authenticationMethod(try block.readMQTTString())
        case .authenticationData: return .authenticationData(try block.readMQTTBinary())
        case .requestProblemInformation: return .requestProblemInformation(try readBoolean(from: &block))
        case .willDelayInterval: return .willDelayInterval(try block.readMQTTUInt32())
        case .requestResponseInformation: return .requestResponseInformation(try readBoolean(from: &block))
        case .responseInformation: return .responseInformation(try block.readMQTTString())
        case .serverReference: return .serverReference(try block.readMQTTString())
        case .reasonString: return .reasonString(try block.readMQTTString())
        case .receiveMaximum:
            let value = try block.readMQTTUInt16()
            guard value != 0 else { throw invalidValue("receive maximum 0") }  // 5.0 §3.1.2.11.3
            return .receiveMaximum(value)
        case .topicAliasMaximum: return .topicAliasMaximum(try block.readMQTTUInt16())
        // Topic Alias 0 is well-formed; the broker answers it with 0x94 (M32).
        case .topicAlias: return .topicAlias(try block.readMQTTUInt16())
        case .maximumQoS:
            let value = try block.readMQTTByte()
            guard value <= 1 else { throw invalidValue("maximum QoS must be 0 or 1") }  // 5.0 §3.2.2.3.4
            return .maximumQoS(value)
        case .retainAvailable: return .retainAvailable(try readBoolean(from: &block))
        case .userProperty:
            let name = try block.readMQTTString()
            return .userProperty(name: name, value: try block.readMQTTString())
        case .maximumPacketSize:
            let value = try block.readMQTTUInt32()
            guard value != 0 else { throw invalidValue("maximum packet size 0") }  // 5.0 §3.1.2.11.4
            return .maximumPacketSize(value)
        case .wildcardSubscriptionAvailable: return .wildcardSubscriptionAvailable(try readBoolean(from: &block))
        case .subscriptionIdentifierAvailable: return .subscriptionIdentifierAvailable(try readBoolean(from: &block))
        case .sharedSubscriptionAvailable: return .sharedSubscriptionAvailable(try readBoolean(from: &block))
        }
    }

    // MARK: writing

    /// Bytes of the properties themselves, without the Property Length prefix.
    var mqttContentSize: Int {
        var size = 0
        for property in elements { size += 1 + property.mqttValueSize }
        return size
    }

    /// Bytes of the whole block: Property Length plus the properties.
    var mqttBlockSize: Int {
        let content = mqttContentSize
        return ByteBuffer.mqttVariableByteIntegerSize(content) + content
    }

    /// Writes Property Length and the properties in order. Only called for MQTT 5.0.
    func write(into buffer: inout ByteBuffer) throws(MQTTCodecError) {
        let content = mqttContentSize
        guard content <= ByteBuffer.maximumVariableByteInteger else { throw .valueNotEncodable("property block too large") }
        buffer.writeMQTTVariableByteInteger(content)
        for property in elements { try property.write(into: &buffer) }
    }
}

extension MQTTProperty {
    /// Bytes of the value (without the identifier byte).
    var mqttValueSize: Int {
        switch self {
        case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS,
            .retainAvailable, .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable,
            .sharedSubscriptionAvailable:
            return 1
        case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias:
            return 2
        case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize:
            return 4
        case .subscriptionIdentifier(let value):
            return ByteBuffer.mqttVariableByteIntegerSize(Int(value))
        case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s), .authenticationMethod(let s),
            .responseInformation(let s), .serverReference(let s), .reasonString(let s):
            return ByteBuffer.mqttStringSize(s)
        case .correlationData(let b), .authenticationData(let b):
            return ByteBuffer.mqttBinarySize(b)
        case .userProperty(let name, let value):
            return ByteBuffer.mqttStringSize(name) + ByteBuffer.mqttStringSize(value)
        }
    }

    /// Writes the identifier byte and the value.
    func write(into buffer: inout ByteBuffer) throws(MQTTCodecError) {
        buffer.writeInteger(identifier.rawValue)
        switch self {
        case .payloadFormatIndicator(let v), .requestProblemInformation(let v), .requestResponseInformation(let v),
            .maximumQoS(let v), .retainAvailable(let v), .wildcardSubscriptionAvailable(let v),
            .subscriptionIdentifierAvailable(let v), .sharedSubscriptionAvailable(let v):
            buffer.writeInteger(v)
        case .serverKeepAlive(let v), .receiveMaximum(let v), .topicAliasMaximum(let v), .topicAlias(let v):
            buffer.writeInteger(v)
        case .messageExpiryInterval(let v), .sessionExpiryInterval(let v), .willDelayInterval(let v),
            .maximumPacketSize(let v):
            buffer.writeInteger(v)
        case .subscriptionIdentifier(let v):
            guard v <= UInt32(ByteBuffer.maximumVariableByteInteger) else {
                throw .valueNotEncodable("subscription identifier above 268,435,455")
            }
            buffer.writeMQTTVariableByteInteger(Int(v))
        case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s), .authenticationMethod(let s),
            .responseInformation(let s), .serverReference(let s), .reasonString(let s):
            try buffer.writeMQTTString(s)
        case .correlationData(let b), .authenticationData(let b):
            try buffer.writeMQTTBinary(b)
        case .userProperty(let name, let value):
            try buffer.writeMQTTString(name)
            try buffer.writeMQTTString(value)
        }
    }
}
