import Logging
import MQTTCodec
import NIOCore

/// The MQTT broker: sessions, subscriptions, retained messages and routing between connections.
public final class MQTTBroker: Sendable {
    public let configuration: BrokerConfiguration

    /// - Parameters:
    ///   - persistence: where sessions and retained messages survive restarts.
    ///   - authenticator: decides every CONNECT.
    ///   - eventLoopGroup: runs all connections; one event loop per core is right.
    public init(
        configuration: BrokerConfiguration,
        persistence: any BrokerPersistence,
        authenticator: any BrokerAuthenticator,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        fatalError("MQTTBroker: not implemented yet")
    }

    /// Loads persisted sessions and retained messages and starts background work (persistence flushes,
    /// session expiry). Call once before binding listeners.
    public func start() async throws {
        fatalError("MQTTBroker: not implemented yet")
    }

    /// Binds a listener. Throws if the address is in use or cannot be bound.
    public func bind(_ listener: MQTTListenerConfiguration) async throws -> MQTTBoundListener {
        fatalError("MQTTBroker: not implemented yet")
    }

    /// Graceful stop: closes listeners, disconnects clients (5.0: DISCONNECT 0x8B Server shutting down),
    /// publishes nothing further, and flushes sessions and retained messages to persistence.
    public func shutdown() async {
        fatalError("MQTTBroker: not implemented yet")
    }
}

/// A bound listener.
public final class MQTTBoundListener: Sendable {
    public let configuration: MQTTListenerConfiguration
    /// The actual address (the real port when 0 was asked).
    public let localAddress: SocketAddress
    let channel: any Channel

    init(configuration: MQTTListenerConfiguration, localAddress: SocketAddress, channel: any Channel) {
        self.configuration = configuration
        self.localAddress = localAddress
        self.channel = channel
    }

    /// Stops accepting; existing connections stay until the broker shuts down.
    public func close() async {
        try? await channel.close()
    }
}
