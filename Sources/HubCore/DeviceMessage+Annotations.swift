extension DeviceMessage {
    /// The message's properties as name/value pairs, under the names Azure's event endpoint uses:
    /// system properties (`message-id`, `correlation-id`, `user-id`, `content-type`, `content-encoding`,
    /// `absolute-expiry-time`), the hub's stamps (`iothub-connection-device-id`, `-module-id`,
    /// `-auth-method`, `-auth-generation-id`, `iothub-enqueuedtime`, `iothub-message-source`,
    /// `mqtt-retain`), then application properties (a bare key has an empty value). For MQTT 5 user
    /// properties on the copy routed to topic watchers.
    public var annotations: [(name: String, value: String)] {
        var pairs = systemAnnotations
        for property in applicationProperties { pairs.append((property.name, property.value ?? "")) }
        return pairs
    }

    /// The system properties and hub stamps of `annotations`, without the application properties: the
    /// `systemProperties` of an event read from the event log.
    public var systemAnnotations: [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String?) { if let value { pairs.append((name, value)) } }
        add("message-id", messageID)
        add("correlation-id", correlationID)
        add("user-id", userID)
        add("content-type", contentType)
        add("content-encoding", contentEncoding)
        add("absolute-expiry-time", absoluteExpiryTime?.iso8601)
        add("iothub-creation-time-utc", creationTimeUTC)
        add("iothub-connection-device-id", connectionDeviceID?.rawValue)
        add("iothub-connection-module-id", connectionModuleID?.rawValue)
        if let method = connectionAuthMethod {
            add("iothub-connection-auth-method", #"{"scope":"device","type":"\#(method == .x509 ? "x509Certificate" : "sas")","issuer":"iothub"}"#)
        }
        add("iothub-connection-auth-generation-id", connectionAuthGenerationID)
        add("iothub-enqueuedtime", enqueuedTime?.iso8601)
        add("iothub-message-source", messageSource?.rawValue)
        if mqttRetain { add("mqtt-retain", "true") }
        return pairs
    }
}
