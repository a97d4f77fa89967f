import HubCore

extension DeviceMessage {
    /// Stamps what the hub knows about a device-to-cloud message it received, replacing whatever the
    /// sender put there (anti-spoofing, protocol reference §2.3): connection device and module, auth
    /// method and generation id, enqueued time, source `Telemetry`, and the MQTT RETAIN flag.
    public mutating func stampTelemetry(
        from identity: IdentityID, authMethod: AuthMethod, generationID: String, enqueuedTime: Timestamp,
        retain: Bool = false
    ) {
        connectionDeviceID = identity.device
        connectionModuleID = identity.module
        connectionAuthMethod = authMethod
        connectionAuthGenerationID = generationID
        self.enqueuedTime = enqueuedTime
        messageSource = .telemetry
        sequenceNumber = nil
        mqttRetain = retain
    }

    /// `.messageTooLarge` when the message is over `limit` bytes as Azure counts them (`sizeInBytes`);
    /// the default is the telemetry limit of 256 KiB.
    public func checkSize(limit: Int = DeviceMessage.maxTelemetrySize) throws(MessagingError) {
        guard sizeInBytes <= limit else {
            throw MessagingError(.messageTooLarge, "the message is larger than \(limit) bytes")
        }
    }
}
