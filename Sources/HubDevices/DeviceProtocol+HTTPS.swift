import HubCore
import HubMessaging
import MQTTBroker
import NIOCore

/// Device-to-cloud telemetry received over HTTPS (`POST /devices/{d}[/modules/{m}]/messages/events`,
/// protocol reference §6), through the same steps as MQTT telemetry (`DeviceProtocol+Telemetry.swift`):
/// stamped, size-checked, stored in the telemetry sink, and routed into the broker's topic space.
extension DeviceProtocol {
    /// Accepts one message an authenticated identity sent over HTTPS, already mapped from its headers
    /// (`HTTPMessageHeaders.telemetry`), and returns once the sink has it durably (the HTTP layer then
    /// answers 204).
    ///
    /// The hub's stamps replace whatever the sender claimed (identity, `authMethod`, `generationID`,
    /// enqueued time, source `Telemetry`). Once stored, a copy is routed like an MQTT device's PUBLISH
    /// at QoS 1 on `devices/{d}[/modules/{m}]/messages/events/{bag}` (the bag is
    /// `PropertyBag.encodeTelemetry` of the message), published by `{d}[/{m}]`, with the stamped
    /// properties as MQTT 5 user properties. Routing waits for the sink (unlike MQTT, where the broker
    /// routes at once) because an HTTPS sender learns of a failure only from the status code: watchers
    /// then never see a message the sender was told to send again.
    ///
    /// - Throws: `.messageTooLarge` (counted as refused) over `Configuration.maximumTelemetryBytes`;
    ///   `.storage` when the sink could not store it (nothing was stored or routed; `storageCode`
    ///   `.diskFull` or `.unavailable`).
    public func acceptHTTPSTelemetry(
        _ message: DeviceMessage, from identity: IdentityID, generationID: String, authMethod: DeviceMessage.AuthMethod = .sas
    ) async throws(MessagingError) {
        var telemetry = message
        try admitTelemetry(&telemetry, from: identity, authMethod: authMethod, generationID: generationID, retain: false)
        let stored = telemetry
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, TelemetrySinkError>, Never>) in
            storeTelemetry(stored, from: identity) { continuation.resume(returning: $0) }
        }
        if case .failure(let error) = result {
            logger.warning("telemetry sink refused an HTTPS message", metadata: ["client": "\(identity)", "error": "\(error)"])
            throw MessagingError(.storage, "the telemetry could not be stored (\(error.code))", storageCode: error.code == .diskFull ? .diskFull : .unavailable)
        }
        guard let broker = link.value else { return }
        let topic =
            DeviceRequestTopic.identityPrefix(device: identity.device.rawValue, module: identity.module?.rawValue) + "messages/events/"
            + PropertyBag.encodeTelemetry(telemetry)
        let published = ApplicationMessage(topic: topic, payload: ByteBuffer(bytes: telemetry.body), qos: .atLeastOnce, retain: false)
        broker.publish(Self.routedTelemetry(published, telemetry: telemetry, identity: identity))
    }
}
