/// SUBSCRIBE: one or more topic filters with options.
public struct MQTTSubscribe: Sendable, Hashable {
    public var packetID: UInt16
    /// Subscription Identifier and User Properties (5.0).
    public var properties: MQTTProperties
    /// At least one. [MQTT-3.8.3-3]
    public var subscriptions: [MQTTSubscription]

    public init(packetID: UInt16, properties: MQTTProperties = [], subscriptions: [MQTTSubscription]) {
        self.packetID = packetID
        self.properties = properties
        self.subscriptions = subscriptions
    }
}

/// One topic filter of a SUBSCRIBE with its options byte.
public struct MQTTSubscription: Sendable, Hashable {
    public var topicFilter: String
    public var options: MQTTSubscriptionOptions

    public init(topicFilter: String, options: MQTTSubscriptionOptions = .init()) {
        self.topicFilter = topicFilter
        self.options = options
    }
}

/// The subscription options byte (5.0 §3.8.3.1); in 3.1.1 only `qos` exists.
public struct MQTTSubscriptionOptions: Sendable, Hashable {
    /// When retained messages are sent at subscribe time.
    public enum RetainHandling: UInt8, Sendable, Hashable, CaseIterable {
        case sendOnSubscribe = 0
        case sendOnSubscribeIfNew = 1
        case doNotSend = 2
    }

    public var qos: MQTTQoS
    /// Do not deliver the subscriber's own publications back to it. Illegal on shared subscriptions.
    public var noLocal: Bool
    /// Keep the RETAIN flag as published instead of clearing it on live delivery.
    public var retainAsPublished: Bool
    public var retainHandling: RetainHandling

    public init(qos: MQTTQoS = .atMostOnce, noLocal: Bool = false, retainAsPublished: Bool = false, retainHandling: RetainHandling = .sendOnSubscribe) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}
