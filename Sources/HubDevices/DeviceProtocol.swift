import HubAccess
import HubCore
import HubMessaging
import HubRegistry
import HubTwins
import Logging
import MQTTBroker
import NIOCore
import ServiceLifecycle
import Synchronization

/// The Azure IoT Hub device protocol on top of the broker, for every device and module connection:
/// twin requests and desired-property pushes, direct methods; telemetry hand-off and cloud-to-device
/// delivery plug in here too.
///
/// Created before the broker (the authenticator needs `interceptor(for:)`), then `attach`ed to it.
/// Run it as a service: it applies registry deletions to the identities' twins in the background.
public final class DeviceProtocol: Sendable {
    /// Limits of the device protocol.
    public struct Configuration: Sendable {
        /// Largest telemetry message as Azure counts it (body + properties); default 256 KiB.
        public var maximumTelemetryBytes = DeviceMessage.maxTelemetrySize

        public init() {}
    }

    /// The broker, once attached.
    final class BrokerLink: Sendable {
        private let broker = Mutex<MQTTBroker?>(nil)
        var value: MQTTBroker? { broker.withLock { $0 } }
        func set(_ value: MQTTBroker) { broker.withLock { $0 = value } }
    }

    let link = BrokerLink()
    let registry: DeviceRegistry
    let logger: Logger
    let configuration: Configuration
    /// Where accepted telemetry goes (the event log's built-in endpoint).
    public let telemetrySink: any TelemetrySink
    /// Telemetry messages refused (malformed property bag, too large).
    let telemetryRefused = Atomic<Int>(0)
    /// Numbers connection-state events.
    let presenceSequence = Atomic<Int64>(0)
    /// Device and module twins.
    public let twins: TwinService
    /// Direct method calls to connected devices.
    public let methods: MethodInvoker
    /// Cloud-to-device queues (the HTTP layer sends, receives over HTTPS and reads feedback here).
    public let cloudToDevice: CloudToDeviceService
    let dispatcher: CloudToDeviceDispatcher
    /// The last desired `$version` pushed to each connected client (stale notifications are dropped).
    let lastDesiredVersions = Mutex<[String: Int64]>([:])
    /// Identities deleted from the registry whose twins are still to be removed.
    private let deletions: AsyncStream<IdentityID>
    private let deletionsInput: AsyncStream<IdentityID>.Continuation

    public init(
        registry: DeviceRegistry, twins: TwinService, telemetry: any TelemetrySink, cloudToDevice: CloudToDeviceService,
        configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.logger = logger
        self.registry = registry
        self.cloudToDevice = cloudToDevice
        self.configuration = configuration
        self.telemetrySink = telemetry
        self.twins = twins
        let link = self.link
        self.methods = MethodInvoker { message, clientID in
            guard let broker = link.value else { return .notConnected }
            return broker.deliver(message, toClient: clientID, requiringSubscription: true)
        }
        self.dispatcher = CloudToDeviceDispatcher(service: cloudToDevice, link: link, logger: logger)
        (deletions, deletionsInput) = AsyncStream.makeStream(of: IdentityID.self, bufferingPolicy: .unbounded)
        let input = deletionsInput
        registry.observe { change in
            switch change {
            case .deviceDeleted(let device): input.yield(IdentityID(device: device.id))
            case .moduleDeleted(let module): input.yield(module.identity)
            default: break
            }
        }
        _ = twins.addDesiredObserver { [weak self] identity, body, version in
            self?.desiredChanged(identity, body: body, version: version)
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

    /// Telemetry messages refused since start (malformed property bag, too large).
    public var refusedTelemetryCount: Int { telemetryRefused.load(ordering: .relaxed) }

    /// Sends `message` straight to one client, for replies (no subscription needed).
    func reply(_ message: ApplicationMessage, to clientID: String) {
        _ = link.value?.deliver(message, toClient: clientID, requiringSubscription: false)
    }
}

extension DeviceProtocol: Service {
    /// Runs until cancelled or shut down gracefully: cloud-to-device delivery and its expiry sweep, and
    /// the clean-up of deleted identities (their twins and queued messages).
    public func run() async throws {
        let stream = deletions
        let input = deletionsInput
        let dispatcher = self.dispatcher
        let service = cloudToDevice
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await dispatcher.run() }
            group.addTask { await service.run() }
            group.addTask {
                await withGracefulShutdownHandler {
                    for await identity in stream {
                        await self.forget(identity)
                    }
                } onGracefulShutdown: {
                    input.finish()
                }
            }
            // The clean-up ends first on graceful shutdown; then the loops stop.
            await group.next()
            group.cancelAll()
        }
    }

    private func forget(_ identity: IdentityID) async {
        do {
            try await twins.deleteTwins(of: identity)
            if identity.module == nil { try await cloudToDevice.purge(identity.device) }
        } catch {
            logger.warning("could not clean up after a deleted identity", metadata: ["identity": "\(identity)", "error": "\(error)"])
        }
    }
}

extension DeviceProtocol: BrokerObserver {
    public func clientConnected(clientID: String, grant: ConnectGrant) {
        guard let connection = DeviceConnection.of(grant) else { return }
        recordPresence(connection, connected: true)
        if connection.identity.module == nil { dispatcher.poke(connection.identity.device) }
    }

    public func clientDisconnected(clientID: String, grant: ConnectGrant) {
        guard let connection = DeviceConnection.of(grant) else { return }
        recordPresence(connection, connected: false)
        _ = lastDesiredVersions.withLock { $0.removeValue(forKey: clientID) }
        if connection.identity.module == nil { dispatcher.disconnected(connection.identity.device) }
    }

    public func clientSubscribed(clientID: String, filters: [String]) {
        guard let device = DeviceID(rawValue: clientID),
            filters.contains(where: { $0.hasPrefix("devices/") && $0.hasSuffix("/messages/devicebound/#") })
        else { return }
        dispatcher.poke(device)
    }

    public func messageAcknowledged(clientID: String, deliveryTag: UInt64) {
        dispatcher.acknowledge(deliveryTag)
    }
}

/// Decides about each PUBLISH of one device connection (topic rights were checked by the broker).
struct DeviceConnectionInterceptor: PublishInterceptor {
    let connection: DeviceConnection
    let hub: DeviceProtocol
    let identityPrefix: String
    /// When this connection's activity was last recorded (ms since 1970).
    let lastActivity = ActivityClock()

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
        case .twinGet(let requestID):
            let (hub, connection) = (hub, connection)
            let done = client.eventLoop.makeFutureWithTask { await hub.answerTwinGet(connection, requestID: requestID) }
            return .accept(route: nil, acknowledgeWhen: done)
        case .twinReportedPatch(let requestID):
            let (hub, connection) = (hub, connection)
            let body = Array(message.payload.readableBytesView)
            let done = client.eventLoop.makeFutureWithTask {
                await hub.answerReportedPatch(connection, requestID: requestID, body: body)
            }
            return .accept(route: nil, acknowledgeWhen: done)
        case .telemetry(let bag):
            if lastActivity.due() { hub.registry.recordActivity(connection.identity) }
            return hub.acceptTelemetry(message, bag: bag, connection: connection, client: client)
        case .unknown:
            // Azure closes the connection on a topic it does not serve (§2.8).
            hub.logger.debug("unknown device topic; closing", metadata: ["client": "\(connection.clientID)"])
            return .disconnect(.topicNameInvalid)
        }
    }
}

/// Rate-limits activity records to one per second per connection (telemetry can arrive much faster).
final class ActivityClock: Sendable {
    private let lastMillis = Atomic<Int64>(0)

    /// True (and the clock reset) when a second has passed since the last `true`.
    func due(now: Int64 = WallClock.nowMillis()) -> Bool {
        let last = lastMillis.load(ordering: .relaxed)
        guard now - last >= 1000 else { return false }
        return lastMillis.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
    }
}
