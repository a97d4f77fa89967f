/// DISCONNECT. In 3.1.1 it has no body; in 5.0 either side may send it with a reason code.
public struct MQTTDisconnect: Sendable, Hashable {
    public var reasonCode: MQTTReasonCode
    /// Session Expiry Interval (client only), Reason String, User Properties, Server Reference.
    public var properties: MQTTProperties

    public init(reasonCode: MQTTReasonCode = .normalDisconnection, properties: MQTTProperties = []) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
