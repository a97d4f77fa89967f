/// UNSUBACK. In 3.1.1 it carries only the packet identifier (`reasonCodes` is empty after decoding and
/// ignored when encoding); in 5.0 one reason code per filter.
public struct MQTTUnsubAck: Sendable, Hashable {
    public var packetID: UInt16
    public var properties: MQTTProperties
    public var reasonCodes: [MQTTReasonCode]

    public init(packetID: UInt16, properties: MQTTProperties = [], reasonCodes: [MQTTReasonCode] = []) {
        self.packetID = packetID
        self.properties = properties
        self.reasonCodes = reasonCodes
    }
}
