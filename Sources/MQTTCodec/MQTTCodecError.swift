/// A typed decoding or encoding failure. Its `reasonCode` is what a 5.0 peer is told (CONNACK before
/// the session exists, DISCONNECT after); a 3.1.1 peer is simply disconnected (except where the spec
/// defines a CONNACK return code, e.g. unsupported protocol version).
///
/// Messages are static and safe to log: they never contain payloads, credentials or peer strings.
public struct MQTTCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case malformedVariableByteInteger, malformedPacket, invalidUTF8, invalidFlags
            case packetTooLarge, protocolError, unsupportedProtocolVersion
            case topicNameInvalid, topicFilterInvalid, invalidPacketIdentifier
            case unknownProperty, duplicateProperty, propertyNotAllowed, invalidPropertyValue
            case tooManyUserProperties, valueNotEncodable
        }
        let base: Base
        /// Remaining Length or a property varint longer than 4 bytes, or not minimally encoded.
        public static let malformedVariableByteInteger = Code(base: .malformedVariableByteInteger)
        /// Structure does not match the declared lengths (a string longer than what is left, trailing bytes…).
        public static let malformedPacket = Code(base: .malformedPacket)
        /// A UTF-8 string that is not well-formed or contains U+0000. [MQTT-1.5.4-1], [MQTT-1.5.4-2]
        public static let invalidUTF8 = Code(base: .invalidUTF8)
        /// Reserved fixed-header or CONNECT flags set wrongly. [MQTT-2.2.2-2], [MQTT-3.1.2-3]
        public static let invalidFlags = Code(base: .invalidFlags)
        /// Remaining Length above the configured maximum packet size; detected from the fixed header alone.
        public static let packetTooLarge = Code(base: .packetTooLarge)
        /// A well-formed packet that breaks a protocol rule.
        public static let protocolError = Code(base: .protocolError)
        /// CONNECT with an unknown protocol name or level.
        public static let unsupportedProtocolVersion = Code(base: .unsupportedProtocolVersion)
        /// PUBLISH topic empty (without alias) or containing `+`/`#`.
        public static let topicNameInvalid = Code(base: .topicNameInvalid)
        /// A topic filter with misplaced wildcards or a malformed `$share/` prefix.
        public static let topicFilterInvalid = Code(base: .topicFilterInvalid)
        /// Packet identifier 0 where a non-zero one is required. [MQTT-2.2.1-3]
        public static let invalidPacketIdentifier = Code(base: .invalidPacketIdentifier)
        /// A property identifier that MQTT 5.0 does not define (table 2-4).
        public static let unknownProperty = Code(base: .unknownProperty)
        /// A property that may appear only once appears twice (M29).
        public static let duplicateProperty = Code(base: .duplicateProperty)
        /// A property that is not valid in this packet (or in a Will). 5.0 §2.2.2.2 makes this a
        /// Malformed Packet (0x81).
        public static let propertyNotAllowed = Code(base: .propertyNotAllowed)
        /// A property value outside its legal range (e.g. Receive Maximum 0, Maximum QoS 2).
        public static let invalidPropertyValue = Code(base: .invalidPropertyValue)
        /// More user properties than the configured cap.
        public static let tooManyUserProperties = Code(base: .tooManyUserProperties)
        /// Encoding only: a value that cannot be represented (a string over 65,535 bytes, a packet over 256 MiB).
        public static let valueNotEncodable = Code(base: .valueNotEncodable)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The reason code to send to a 5.0 peer.
    public var reasonCode: MQTTReasonCode
    /// A fixed explanation, safe for logs and Reason String properties.
    public var message: String
    /// Set when the offending packet was consumed in full so the stream is still in sync, and the packet
    /// identifier is known (e.g. a QoS 1 PUBLISH to an invalid topic can be answered with PUBACK 0x90).
    public var packetID: UInt16?
    /// True when the bytes of the offending packet were consumed entirely, so the connection may go on
    /// if the protocol allows answering with an ack reason code instead of disconnecting.
    public var packetConsumed: Bool
    /// For errors in a PUBLISH: its QoS, so the broker can choose PUBACK/PUBREC vs DISCONNECT.
    public var publishQoS: MQTTQoS?
    /// For `.unsupportedProtocolVersion`: the CONNECT's Protocol Level byte, when it could be read.
    /// The broker answers a 5.0 CONNACK 0x84 only when this is 5, and a 3.1.1 CONNACK with return code
    /// 0x01 otherwise (3.1.1 §3.1.2.2: "unacceptable protocol level"; 5.0 §3.1.2.2).
    public var requestedProtocolLevel: UInt8?

    public init(
        _ code: Code,
        reasonCode: MQTTReasonCode,
        message: String,
        packetID: UInt16? = nil,
        packetConsumed: Bool = false,
        publishQoS: MQTTQoS? = nil,
        requestedProtocolLevel: UInt8? = nil
    ) {
        self.code = code
        self.reasonCode = reasonCode
        self.message = message
        self.packetID = packetID
        self.packetConsumed = packetConsumed
        self.publishQoS = publishQoS
        self.requestedProtocolLevel = requestedProtocolLevel
    }

    public var description: String { "MQTTCodecError(\(code), \(reasonCode)): \(message)" }
}
