import HubAccess
import HubCore
import Logging
import MQTTBroker
import NIOCore
import Synchronization

/// The Azure IoT Hub device protocol on top of the broker, for every device and module connection:
/// direct methods now; telemetry hand-off, twins and cloud-to-device delivery plug in here too.
///
/// Created before the broker (the authenticator needs `interceptor(for:)`), then `attach`ed to it.
public final class DeviceProtocol: Sendable {
    /// The broker, once attached.
    final class BrokerLink: Sendable {
        private let broker = Mutex<MQTTBroker?>(nil)
        var value: MQTTBroker? { broker.withLock { $0 } }
        func set(_ value: MQTTBroker) { broker.withLock { $0 = value } }
    }

    let link = BrokerLink()
    let logger: Logger
    /// Direct method calls to connected devices.
    public let methods: MethodInvoker

    public init(logger: Logger) {
        self.logger = logger
        let link = self.link
        self.methods = MethodInvoker { message, clientID in
            guard let broker = link.value else { return .notConnected }
            return broker.deliver(message, toClient: clientID, requiringSubscription: true)
        }
    }

    /// Connects the protocol to the running broker; call once, before listeners accept clients.
    public func attach(_ broker: MQTTBroker) {
        link.set(broker)
    }

    /// The protocol layer of one device or module connection (for `HubMQTTAuthenticator`).
    public func interceptor(for connection: DeviceConnection) -> any PublishInterceptor {
        DeviceConnectionInterceptor(connection: connection, hub: self)
    }

    /// Sends `message` straight to one client, for replies (no subscription needed).
    func reply(_ message: ApplicationMessage, to clientID: String) {
        _ = link.value?.deliver(message, toClient: clientID, requiringSubscription: false)
    }
}

/// Decides about each PUBLISH of one device connection (topic rights were checked by the broker).
struct DeviceConnectionInterceptor: PublishInterceptor {
    let connection: DeviceConnection
    let hub: DeviceProtocol
    let identityPrefix: String

    init(connection: DeviceConnection, hub: DeviceProtocol) {
        self.connection = connection
        self.hub = hub
        self.identityPrefix = DeviceRequestTopic.identityPrefix(
            device: connection.identity.device.rawValue, module: connection.identity.module?.rawValue)
    }

    func intercept(_ message: ApplicationMessage, from client: PublishingClient) -> PublishDisposition {
        switch DeviceRequestTopic(topic: message.topic, identityPrefix: identityPrefix) {
        case .methodResponse(let status, let requestID):
            hub.methods.responseReceived(
                clientID: connection.clientID, requestID: requestID, status: status,
                body: Array(message.payload.readableBytesView))
            return .accept(route: nil, acknowledgeWhen: nil)
        case .telemetry, .twinGet, .twinReportedPatch:
            return .route
        case .unknown:
            // Azure closes the connection on a topic it does not serve (§2.8).
            hub.logger.debug("unknown device topic; closing", metadata: ["client": "\(connection.clientID)"])
            return .disconnect(.topicNameInvalid)
        }
    }
}

extension DeviceProtocol: BrokerObserver {
    public func clientConnected(clientID: String, grant: ConnectGrant) {}
    public func clientDisconnected(clientID: String, grant: ConnectGrant) {}
    public func messageAcknowledged(clientID: String, deliveryTag: UInt64) {}
}
