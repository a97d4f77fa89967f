/// SUBACK: one reason code per requested filter, in order.
/// In 3.1.1 the codes are 0x00, 0x01, 0x02 (granted QoS) or 0x80 (failure); the encoder writes any
/// failure code as 0x80 for 3.1.1.
public struct MQTTSubAck: Sendable, Hashable {
    public var packetID: UInt16
    public var properties: MQTTProperties
    public var reasonCodes: [MQTTReasonCode]

    public init(packetID: UInt16, properties: MQTTProperties = [], reasonCodes: [MQTTReasonCode]) {
        self.packetID = packetID
        self.properties = properties
        self.reasonCodes = reasonCodes
    }
}
