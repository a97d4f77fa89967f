/// CONNACK: the server's answer to CONNECT.
///
/// `reasonCode` is always an MQTT 5.0 reason code; for 3.1.1 the encoder writes
/// `reasonCode.connectReturnCodeV3` and the decoder maps the return code back.
public struct MQTTConnAck: Sendable, Hashable {
    public var sessionPresent: Bool
    public var reasonCode: MQTTReasonCode
    public var properties: MQTTProperties

    public init(sessionPresent: Bool = false, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = []) {
        self.sessionPresent = sessionPresent
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
