/// AUTH (5.0 only): enhanced authentication exchange.
public struct MQTTAuth: Sendable, Hashable {
    public var reasonCode: MQTTReasonCode
    public var properties: MQTTProperties

    public init(reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = []) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
