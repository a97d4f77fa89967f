import Logging
import MQTTBroker
import MQTTCodec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs an in-process `MQTTBroker` on 127.0.0.1 with a free TCP port for tests. `restart()` stops it
/// gracefully and starts a new broker over the same persistence, as a process restart would.
public final class BrokerHarness: Sendable {
    public let configuration: BrokerConfiguration
    public let persistence: any BrokerPersistence
    let authenticator: (any BrokerAuthenticator)?
    let observer: (any BrokerObserver)?
    let admission: (@Sendable (SocketAddress?) -> Bool)?
    let group: MultiThreadedEventLoopGroup
    private let state: NIOLockedValueBox<(broker: MQTTBroker, port: Int)?>

    public init(
        configuration: BrokerConfiguration = BrokerHarness.defaultConfiguration(),
        persistence: any BrokerPersistence = InMemoryBrokerPersistence(),
        authenticator: (any BrokerAuthenticator)? = nil,
        observer: (any BrokerObserver)? = nil,
        admission: (@Sendable (SocketAddress?) -> Bool)? = nil
    ) {
        self.configuration = configuration
        self.persistence = persistence
        self.authenticator = authenticator
        self.observer = observer
        self.admission = admission
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.state = NIOLockedValueBox(nil)
    }

    public static func defaultConfiguration() -> BrokerConfiguration {
        var c = BrokerConfiguration()
        c.allowAnonymous = true
        c.persistenceFlushInterval = 0.05
        return c
    }

    public var broker: MQTTBroker { state.withLockedValue { $0!.broker } }
    public var port: Int { state.withLockedValue { $0!.port } }

    /// Starts the broker; with `port` 0 a free port is chosen (and kept across restarts).
    public func start(port: Int = 0) async throws {
        var logger = Logger(label: "test-broker")
        logger.logLevel = .warning
        let broker = MQTTBroker(
            configuration: configuration, persistence: persistence,
            authenticator: authenticator ?? AnonymousAuthenticator(allowAnonymous: configuration.allowAnonymous),
            eventLoopGroup: group, logger: logger, observer: observer, admission: admission)
        try await broker.start()
        let bound = try await broker.bind(MQTTListenerConfiguration(name: "mqtt", host: "127.0.0.1", port: port, transport: .tcp))
        state.withLockedValue { $0 = (broker, bound.localAddress.port!) }
    }

    public func stop() async {
        if let broker = state.withLockedValue({ $0?.broker }) { await broker.shutdown() }
    }

    public func restart() async throws {
        let port = self.port
        await stop()
        try await start(port: port)
    }

    /// Opens a test client to this broker.
    public func client(_ version: MQTTProtocolVersion = .v5) async throws -> TestMQTTClient {
        try await TestMQTTClient.open(port: port, version: version, group: group)
    }

    /// Stops the broker and its threads.
    public func shutdown() async {
        await stop()
        try? await group.shutdownGracefully()
    }
}
