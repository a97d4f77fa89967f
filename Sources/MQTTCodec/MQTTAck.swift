/// The body shared by PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier, and in 5.0 a reason
/// code and properties (both omitted on the wire when the code is Success and there are no properties).
public struct MQTTAck: Sendable, Hashable {
    public var packetID: UInt16
    public var reasonCode: MQTTReasonCode
    public var properties: MQTTProperties

    public init(packetID: UInt16, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = []) {
        self.packetID = packetID
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
