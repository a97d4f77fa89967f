import MQTTCodec

extension MQTTBroker {
    /// Queues `message` for one connected client only, whatever other clients subscribe to: how a
    /// protocol layer answers a request (a twin response), calls a device (a direct method) or hands
    /// it a message from its own queue (cloud-to-device). With `requiringSubscription`, the client must
    /// hold a subscription matching the topic (Azure delivers methods and C2D only then). QoS is the
    /// message's own. A `deliveryTag` on the message is reported to the observer when the client
    /// acknowledges it.
    public func deliver(_ message: ApplicationMessage, toClient clientID: String, requiringSubscription: Bool) -> DirectDeliveryResult {
        guard let session = core.sessions.withLock({ $0[ByteString(clientID)] }) else { return .notConnected }
        let subscribed = session.state.withLock { s -> Bool? in
            guard s.owner != nil, !s.ended else { return nil }
            guard requiringSubscription else { return true }
            return s.subscriptions.values.contains { $0.filter.shareName == nil && Self.topic(message.topic, matches: $0.filter.filter) }
        }
        guard let subscribed else { return .notConnected }
        guard subscribed else { return .notSubscribed }
        let outcome = session.enqueue(OutboundMessage(message: message, qos: message.qos, retain: false), limits: core.queueLimits)
        if outcome.dropped > 0 { core.statistics.messagesDropped.wrappingAdd(outcome.dropped, ordering: .relaxed) }
        outcome.schedule?.scheduleDrain()
        return outcome.accepted ? .queued : .queueFull
    }

    /// Whether `clientID` has a live connection.
    public func isConnected(clientID: String) -> Bool {
        guard let session = core.sessions.withLock({ $0[ByteString(clientID)] }) else { return false }
        return session.state.withLock { $0.owner != nil && !$0.ended }
    }

    /// Whether `clientID` has a live connection and a subscription matching `topic`.
    public func isSubscribed(clientID: String, to topic: String) -> Bool {
        guard let session = core.sessions.withLock({ $0[ByteString(clientID)] }) else { return false }
        return session.state.withLock { s in
            s.owner != nil && !s.ended
                && s.subscriptions.values.contains { $0.filter.shareName == nil && Self.topic(topic, matches: $0.filter.filter) }
        }
    }

    /// MQTT topic matching of one name against one filter (`+` one level, `#` the rest; a leading
    /// wildcard does not match a `$` topic). [MQTT-4.7.1-*], [MQTT-4.7.2-1]
    static func topic(_ topic: String, matches filter: String) -> Bool {
        let t = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let f = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if t.first?.first == UInt8(ascii: "$"), let first = f.first, first.elementsEqual("+".utf8) || first.elementsEqual("#".utf8) {
            return false
        }
        var i = 0
        while i < f.count {
            if f[i].elementsEqual("#".utf8) { return true }
            guard i < t.count else { return false }
            if !f[i].elementsEqual("+".utf8) && !f[i].elementsEqual(t[i]) { return false }
            i += 1
        }
        return i == t.count
    }
}
