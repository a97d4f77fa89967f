/// Messages a protocol layer accepted over another transport, routed as if a client had published them.
extension MQTTBroker {
    /// Routes `message` to every matching subscription (and stores it if it is retained), exactly as a
    /// PUBLISH from a connected client is routed: the same subscription tree, QoS downgrade, No Local
    /// (by `originClientID`), queue limits and retained store. For protocol layers that accept messages
    /// over other transports, such as device telemetry over HTTPS.
    ///
    /// There is no publishing connection to pause, so a subscriber whose queue is full loses messages
    /// by its queue policy (counted in `messagesDropped`), as for Will messages. Never blocks.
    public func publish(_ message: ApplicationMessage) {
        _ = core.route(message, publisher: nil)
    }
}
