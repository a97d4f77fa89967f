import NIOCore

/// PUBLISH: an application message in either direction.
public struct MQTTPublish: Sendable, Hashable {
    /// Topic name; may be empty in 5.0 when a Topic Alias property stands in for it.
    public var topic: String
    /// A slice of the received bytes; not copied on decode.
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool
    public var dup: Bool
    /// Present exactly when `qos > 0`. [MQTT-2.2.1-2]
    public var packetID: UInt16?
    public var properties: MQTTProperties

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetID: UInt16? = nil,
        properties: MQTTProperties = []
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
        self.properties = properties
    }
}
