import Logging
import MQTTCodec
import NIOCore
import Synchronization

/// The MQTT broker: sessions, subscriptions, retained messages and routing between connections.
public final class MQTTBroker: Sendable {
    public let configuration: BrokerConfiguration
    let core: BrokerCore
    private let listeners = Mutex<[MQTTBoundListener]>([])
    private let flushTask = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - persistence: where sessions and retained messages survive restarts. The broker writes to it but
    ///     does not close it; its owner does, after `shutdown()`.
    ///   - authenticator: decides every CONNECT.
    ///   - eventLoopGroup: runs all connections; one event loop per core is right.
    ///   - observer: told about every connect and disconnect.
    ///   - admission: decides at accept time whether a client address may connect at all (IP filter);
    ///     refused sockets are closed without a byte.
    public init(
        configuration: BrokerConfiguration,
        persistence: any BrokerPersistence,
        authenticator: any BrokerAuthenticator,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        observer: (any BrokerObserver)? = nil,
        admission: (@Sendable (SocketAddress?) -> Bool)? = nil
    ) {
        self.configuration = configuration
        self.core = BrokerCore(
            configuration: configuration, persistence: persistence, authenticator: authenticator,
            group: eventLoopGroup, logger: logger, observer: observer, admission: admission)
    }

    /// Re-checks the connection of `clientID` (if connected) against `check`, which returns the reason
    /// to disconnect it with (e.g. 0x98 Administrative action after its device was disabled) or nil to
    /// keep it. Runs on the connection's event loop, promptly.
    public func revalidate(clientID: String, _ check: @escaping @Sendable (ConnectGrant) -> MQTTReasonCode?) {
        guard let session = core.sessions.withLock({ $0[ByteString(clientID)] }),
            let owner = session.state.withLock({ $0.owner })
        else { return }
        owner.execute { $0.revalidate(check) }
    }

    /// Re-checks every connection against `check` (after a change that may affect many, such as a
    /// shared access policy's key or a CA certificate).
    public func revalidateAll(_ check: @escaping @Sendable (ConnectGrant) -> MQTTReasonCode?) {
        for handle in core.connections.withLock({ Array($0.values) }) {
            handle.execute { $0.revalidate(check) }
        }
    }

    /// Live counters.
    public var statistics: BrokerStatistics { core.statistics }

    /// Loads persisted sessions and retained messages and starts the write-behind persistence loop.
    /// Call once before binding listeners.
    public func start() async throws {
        let stored = try await core.persistence.load()
        core.restore(stored)
        core.logger.info("broker state restored", metadata: [
            "sessions": "\(stored.sessions.count)", "retained": "\(stored.retained.count)",
        ])
        let core = self.core
        let interval = max(0.01, configuration.persistenceFlushInterval)
        let task = Task {
            var metrics = BrokerMetricsExporter()
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                if Task.isCancelled { break }
                await core.flush(full: false)
                metrics.export(core)
            }
        }
        flushTask.withLock { $0 = task }
    }

    /// Binds a listener. Throws if the address is in use or cannot be bound.
    public func bind(_ listener: MQTTListenerConfiguration) async throws -> MQTTBoundListener {
        let bound = try await MQTTListenerFactory(core: core).bind(listener)
        listeners.withLock { $0.append(bound) }
        return bound
    }

    /// Graceful stop: closes listeners, disconnects clients (5.0: DISCONNECT 0x8B Server shutting down),
    /// keeps their sessions without publishing Wills, and flushes sessions and retained messages to
    /// persistence.
    public func shutdown() async {
        core.shuttingDown.store(true, ordering: .relaxed)
        for listener in listeners.withLock({ l in defer { l.removeAll() }; return l }) {
            await listener.close()
        }
        if let task = flushTask.withLock({ t in defer { t = nil }; return t }) {
            task.cancel()
            await task.value
        }
        let open = core.connections.withLock { Array($0.values) }
        for handle in open {
            handle.execute { $0.kick(.serverShuttingDown) }
        }
        for handle in open {
            try? await handle.channel.closeFuture.get()
        }
        await core.flush(full: true)
        core.logger.info("broker stopped", metadata: ["sessions": "\(core.sessions.withLock { $0.count })"])
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
