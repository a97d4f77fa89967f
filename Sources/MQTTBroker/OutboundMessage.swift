import MQTTCodec

/// A message addressed to one session: the routed message plus what the matching subscription changes
/// (granted QoS, retain flag as delivered, subscription identifiers).
struct OutboundMessage: Sendable {
    var message: ApplicationMessage
    /// min(published QoS, subscription QoS). [MQTT-3.8.4-8]
    var qos: MQTTQoS
    /// The RETAIN flag as delivered: set for retained messages sent on subscribe; otherwise the
    /// published flag only when Retain As Published is on. [MQTT-3.3.1-12/13]
    var retain: Bool
    var subscriptionIdentifiers: [UInt32]

    init(message: ApplicationMessage, qos: MQTTQoS, retain: Bool, subscriptionIdentifiers: [UInt32] = []) {
        self.message = message
        self.qos = qos
        self.retain = retain
        self.subscriptionIdentifiers = subscriptionIdentifiers
    }
}
