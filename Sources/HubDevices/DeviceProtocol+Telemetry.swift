import HubAccess
import HubCore
import HubMessaging
import MQTTBroker
import NIOCore

/// Device-to-cloud telemetry (protocol reference §2.3): the property bag decoded, the hub's stamps
/// applied, the message handed to the telemetry sink, and the PUBACK sent only once the sink has it
/// durably. A copy (not retained) is routed into the broker's topic space, so an MQTT client with
/// rights can watch `devices/+/messages/events/#`.
extension DeviceProtocol {
    func acceptTelemetry(
        _ message: ApplicationMessage, bag: Substring, connection: DeviceConnection, client: PublishingClient
    ) -> PublishDisposition {
        var telemetry: DeviceMessage
        do {
            telemetry = try PropertyBag.decode(bag)
            telemetry.body = Array(message.payload.readableBytesView)
            telemetry.stampTelemetry(
                from: connection.identity, authMethod: connection.authenticationType == "x509" ? .x509 : .sas,
                generationID: connection.generationID, enqueuedTime: Timestamp.now(), retain: message.retain)
            try telemetry.checkSize(limit: configuration.maximumTelemetryBytes)
        } catch {
            telemetryRefused.wrappingAdd(1, ordering: .relaxed)
            logger.debug("telemetry refused", metadata: ["client": "\(connection.clientID)", "reason": "\(error)"])
            // Azure closes an MQTT connection on a bad message; MQTT 5 clients get the reason first.
            return .refuse(error.code == .messageTooLarge ? .packetTooLarge : .topicNameInvalid)
        }
        let stored = client.eventLoop.makePromise(of: Void.self)
        telemetrySink.append(telemetry, partitionKey: connection.clientID) { result in
            switch result {
            case .success: stored.succeed()
            case .failure(let error): stored.fail(error)
            }
        }
        var routed = message
        routed.retain = false
        routed.originClientID = connection.clientID
        // MQTT 5 watchers see the properties, stamps included, as user properties.
        routed.properties.userProperties = telemetry.annotations
        if let contentType = telemetry.contentType { routed.properties.contentType = contentType }
        return .accept(route: routed, acknowledgeWhen: message.qos == .atMostOnce ? nil : stored.futureResult)
    }
}
