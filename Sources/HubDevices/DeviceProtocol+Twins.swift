import HubAccess
import HubCore
import HubTwins
import MQTTBroker
import NIOCore

/// Device twins over MQTT (protocol reference §2.6): GET and reported PATCH requests answered on
/// `$iothub/twin/res/…` (to the requesting connection, subscribed or not: the Python SDK asks before
/// subscribing), and desired-property changes pushed to subscribed devices.
extension DeviceProtocol {
    /// `$iothub/twin/GET/?$rid=`: 200 with `{"desired":…,"reported":…}`.
    func answerTwinGet(_ connection: DeviceConnection, requestID: String) async {
        do {
            let body = try await twins.deviceTwinBody(of: connection.identity)
            replyTwin(status: 200, requestID: requestID, body: JSONWriter.bytes(body), to: connection)
        } catch {
            replyTwinError(error, requestID: requestID, to: connection)
        }
    }

    /// `$iothub/twin/PATCH/properties/reported/?$rid=`: 204 with the new reported `$version`.
    func answerReportedPatch(_ connection: DeviceConnection, requestID: String, body: [UInt8]) async {
        let patch: JSONValue
        do {
            patch = try JSONParser.parse(body)
        } catch {
            replyTwin(status: 400, requestID: requestID, body: [], to: connection)
            return
        }
        do {
            let version = try await twins.updateReportedProperties(of: connection.identity, patch: patch)
            replyTwin(status: 204, requestID: requestID, version: version, body: [], to: connection)
        } catch {
            replyTwinError(error, requestID: requestID, to: connection)
        }
    }

    private func replyTwinError(_ error: TwinError, requestID: String, to connection: DeviceConnection) {
        if error.code.httpStatus >= 500 {
            logger.warning("twin request failed", metadata: ["client": "\(connection.clientID)", "error": "\(error)"])
        }
        replyTwin(status: error.code.httpStatus, requestID: requestID, body: [], to: connection)
    }

    private func replyTwin(status: Int, requestID: String, version: Int64? = nil, body: [UInt8], to connection: DeviceConnection) {
        reply(
            ApplicationMessage(
                topic: DeviceResponseTopic.twinResponse(status: status, requestID: requestID, version: version),
                payload: ByteBuffer(bytes: body), qos: .atMostOnce, retain: false),
            to: connection.clientID)
    }

    /// Pushes a desired-property change to the identity's connection if it subscribed to
    /// `$iothub/twin/PATCH/properties/desired/#`. Changes stored concurrently may be reported out of
    /// order; one whose version is not above the last one sent is dropped (the device resyncs with GET
    /// on reconnect anyway).
    func desiredChanged(_ identity: IdentityID, body: JSONValue, version: Int64) {
        let clientID = identity.description
        let newer = lastDesiredVersions.withLock { sent -> Bool in
            if let last = sent[clientID], last >= version { return false }
            sent[clientID] = version
            return true
        }
        guard newer, let broker = link.value else { return }
        let message = ApplicationMessage(
            topic: DeviceResponseTopic.desiredPatch(version: version), payload: ByteBuffer(bytes: JSONWriter.bytes(body)),
            qos: .atMostOnce, retain: false)
        _ = broker.deliver(message, toClient: clientID, requiringSubscription: true)
    }
}
