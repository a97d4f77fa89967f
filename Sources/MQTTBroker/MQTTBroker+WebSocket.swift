import NIOCore

/// Hooks for HTTP servers that carry MQTT over WebSockets on their own listeners (the hub's HTTPS API
/// listener serves REST and `/$iothub/websocket` on one port).
extension MQTTBroker {
    /// The WebSocket subprotocol to answer an upgrade with, given the client's `Sec-WebSocket-Protocol`
    /// values: `mqtt` (MQTT 5.0 §6, 3.1.1 §6), `mqttv3.1` for old clients, `""` when the client offered
    /// none (accepted, answered without the header), nil to refuse (only foreign subprotocols offered).
    public static func webSocketSubprotocol(offered: [String]) -> String? {
        let normalized = offered.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: " \t").lowercased() }
        if normalized.contains("mqtt") { return "mqtt" }
        if normalized.contains("mqttv3.1") { return "mqttv3.1" }
        return normalized.isEmpty ? "" : nil
    }

    /// Turns a channel whose pipeline already decodes and encodes WebSocket frames (right after the
    /// upgrade) into an MQTT connection of this broker. Call on the channel's event loop.
    public func configureWebSocketConnection(
        _ channel: any Channel, listenerName: String, clientCertificates: PresentedClientCertificates?
    ) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(WebSocketMQTTFramer())
        try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: listenerName, clientCertificates: clientCertificates))
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
