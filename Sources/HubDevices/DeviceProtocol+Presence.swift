import HubAccess
import HubCore
import HubMessaging
import Synchronization

/// Device connection-state events, as Azure IoT Hub emits them to its event endpoint
/// (`iothub-message-source: deviceConnectionStateEvents`): one message per connect and disconnect of a
/// device or module, so routing and analytics downstream see presence in the same stream as telemetry.
/// The registry's `connectionState` / `lastActivityTime` are kept by `RegistryConnectionTracker`.
extension DeviceProtocol {
    func recordPresence(_ connection: DeviceConnection, connected: Bool) {
        let now = Timestamp.now()
        let sequence = presenceSequence.wrappingAdd(1, ordering: .relaxed).newValue
        var properties: [DeviceMessage.Property] = [
            .init("opType", connected ? "deviceConnected" : "deviceDisconnected"),
            .init("deviceId", connection.identity.device.rawValue),
            .init("operationTimestamp", now.iso8601),
            .init("iothub-message-schema", "deviceConnectionStateNotification"),
        ]
        if let module = connection.identity.module { properties.append(.init("moduleId", module.rawValue)) }
        let body = #"{"sequenceNumber":"\#(String(sequence))"}"#
        let event = DeviceMessage(
            body: Array(body.utf8), contentType: "application/json", contentEncoding: "utf-8", applicationProperties: properties,
            connectionDeviceID: connection.identity.device, connectionModuleID: connection.identity.module,
            enqueuedTime: now, messageSource: .deviceConnectionStateEvents)
        let logger = self.logger
        telemetrySink.append(event, partitionKey: connection.clientID) { result in
            if case .failure(let error) = result {
                logger.warning("connection-state event not stored", metadata: ["client": "\(connection.clientID)", "error": "\(error)"])
            }
        }
    }
}
