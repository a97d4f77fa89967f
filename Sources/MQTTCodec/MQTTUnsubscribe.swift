/// UNSUBSCRIBE: one or more topic filters to remove.
public struct MQTTUnsubscribe: Sendable, Hashable {
    public var packetID: UInt16
    public var properties: MQTTProperties
    /// At least one. [MQTT-3.10.3-2]
    public var topicFilters: [String]

    public init(packetID: UInt16, properties: MQTTProperties = [], topicFilters: [String]) {
        self.packetID = packetID
        self.properties = properties
        self.topicFilters = topicFilters
    }
}
