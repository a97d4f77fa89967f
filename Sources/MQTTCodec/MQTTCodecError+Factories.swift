/// Internal shorthands for the errors the codec throws. Every message is a fixed string: no peer data
/// ever reaches an error (house style: errors are safe to log).
extension MQTTCodecError {
    /// A structural error: a length that does not fit, trailing bytes, a reserved bit set… (0x81)
    static func malformed(_ message: String) -> Self {
        Self(.malformedPacket, reasonCode: .malformedPacket, message: message)
    }

    /// A variable byte integer longer than 4 bytes or not minimally encoded. [MQTT-1.5.5-1] (0x81)
    static func malformedVariableByteInteger(_ message: String) -> Self {
        Self(.malformedVariableByteInteger, reasonCode: .malformedPacket, message: message)
    }

    /// Reserved fixed-header or CONNECT flag bits set wrongly. [MQTT-2.1.3-1] (0x81)
    static func invalidFlags(_ message: String) -> Self {
        Self(.invalidFlags, reasonCode: .malformedPacket, message: message)
    }

    /// A UTF-8 string that is ill-formed or contains U+0000. [MQTT-1.5.4-1] [MQTT-1.5.4-2] (0x81)
    static let invalidUTF8 = Self(
        .invalidUTF8, reasonCode: .malformedPacket, message: "UTF-8 string is ill-formed or contains U+0000")

    /// A well-formed packet that breaks a protocol rule. (0x82)
    static func protocolError(_ message: String) -> Self {
        Self(.protocolError, reasonCode: .protocolError, message: message)
    }

    /// Packet identifier 0 where a non-zero identifier is required. [MQTT-2.2.1-3] (0x81)
    static let invalidPacketIdentifier = Self(
        .invalidPacketIdentifier, reasonCode: .malformedPacket, message: "packet identifier must not be 0")

    /// Remaining Length above the configured maximum. (0x95)
    static let packetTooLarge = Self(
        .packetTooLarge, reasonCode: .packetTooLarge, message: "packet exceeds the maximum packet size")

    /// Encoding only: a value that the protocol cannot carry.
    static func valueNotEncodable(_ message: String) -> Self {
        Self(.valueNotEncodable, reasonCode: .implementationSpecificError, message: message)
    }

    /// A CONNECT whose protocol name or level this codec does not speak. (0x84)
    static func unsupportedProtocolVersion(level: UInt8?) -> Self {
        Self(
            .unsupportedProtocolVersion, reasonCode: .unsupportedProtocolVersion,
            message: "unsupported protocol name or level", requestedProtocolLevel: level)
    }
}
