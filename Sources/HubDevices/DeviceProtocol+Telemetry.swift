import HubAccess
import HubCore
import HubMessaging
import MQTTBroker
import NIOCore

/// Device-to-cloud telemetry (protocol reference §2.3): the property bag decoded, the hub's stamps
/// applied, the message handed to the telemetry sink, and the PUBACK sent only once the sink has it
/// durably. A copy (not retained) is routed into the broker's topic space, so an MQTT client with
/// rights can watch `devices/+/messages/events/#`.
///
/// The steps after decoding (`admitTelemetry`, `storeTelemetry`, `routedTelemetry`) are shared with
/// telemetry that arrives over HTTPS (`DeviceProtocol+HTTPS.swift`), so both transports stamp, count,
/// store and route a message the same way.
extension DeviceProtocol {
    func acceptTelemetry(
        _ message: ApplicationMessage, bag: Substring, connection: DeviceConnection, client: PublishingClient
    ) -> PublishDisposition {
        var telemetry: DeviceMessage
        do throws(MessagingError) {
            do throws(MessagingError) {
                telemetry = try PropertyBag.decode(bag)
            } catch {
                countRefusal(error, identity: connection.identity)
                throw error
            }
            telemetry.body = Array(message.payload.readableBytesView)
            try admitTelemetry(
                &telemetry, from: connection.identity, authMethod: connection.authenticationType == "x509" ? .x509 : .sas,
                generationID: connection.generationID, retain: message.retain)
        } catch {
            // Azure closes an MQTT connection on a bad message; MQTT 5 clients get the reason first.
            return .refuse(error.code == .messageTooLarge ? .packetTooLarge : .topicNameInvalid)
        }
        let stored = client.eventLoop.makePromise(of: Void.self)
        storeTelemetry(telemetry, from: connection.identity) { result in
            switch result {
            case .success: stored.succeed()
            case .failure(let error): stored.fail(error)
            }
        }
        // The watchers' copy gets its user properties only when a subscription matches it.
        let stamped = telemetry
        return .accept(
            route: Self.routedTelemetry(message, identity: connection.identity),
            acknowledgeWhen: message.qos == .atMostOnce ? nil : stored.futureResult,
            decorate: { Self.annotate(&$0, with: stamped) })
    }

    // MARK: shared by MQTT and HTTPS

    /// Stamps what the hub knows about a received message (identity, auth method, generation id,
    /// enqueued time, source `Telemetry`, MQTT RETAIN; anything the sender claimed is replaced) and
    /// checks its size as Azure counts it. A refusal is counted and logged (its reason only) and thrown:
    /// `.messageTooLarge` when over `Configuration.maximumTelemetryBytes`.
    func admitTelemetry(
        _ telemetry: inout DeviceMessage, from identity: IdentityID, authMethod: DeviceMessage.AuthMethod, generationID: String,
        retain: Bool
    ) throws(MessagingError) {
        telemetry.stampTelemetry(from: identity, authMethod: authMethod, generationID: generationID, enqueuedTime: Timestamp.now(), retain: retain)
        do throws(MessagingError) {
            try telemetry.checkSize(limit: configuration.maximumTelemetryBytes)
        } catch {
            countRefusal(error, identity: identity)
            throw error
        }
    }

    /// Hands an admitted message to the sink under the identity's partition key (`{d}` or `{d}/{m}`, so
    /// one identity's messages stay in order); `completion` runs once, when it is durable or has failed.
    func storeTelemetry(
        _ telemetry: DeviceMessage, from identity: IdentityID,
        completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void
    ) {
        telemetrySink.append(telemetry, partitionKey: identity.description, completion: completion)
    }

    /// The copy of `published` routed to topic watchers: not retained, published by the identity (for
    /// No Local), with the stamped message's properties as MQTT 5 user properties and its content type.
    static func routedTelemetry(_ published: ApplicationMessage, telemetry: DeviceMessage, identity: IdentityID) -> ApplicationMessage {
        var routed = routedTelemetry(published, identity: identity)
        annotate(&routed, with: telemetry)
        return routed
    }

    /// `routedTelemetry` without the properties (`annotate` adds them).
    static func routedTelemetry(_ published: ApplicationMessage, identity: IdentityID) -> ApplicationMessage {
        var routed = published
        routed.retain = false
        routed.originClientID = identity.description
        return routed
    }

    /// MQTT 5 watchers see the properties, stamps included, as user properties, and the content type.
    static func annotate(_ routed: inout ApplicationMessage, with telemetry: DeviceMessage) {
        routed.properties.userProperties = telemetry.annotations
        if let contentType = telemetry.contentType { routed.properties.contentType = contentType }
    }

    /// Counts and logs a refused message: the reason only, never properties or payload.
    private func countRefusal(_ error: MessagingError, identity: IdentityID) {
        telemetryRefused.wrappingAdd(1, ordering: .relaxed)
        logger.debug("telemetry refused", metadata: ["client": "\(identity)", "reason": "\(error)"])
    }
}
