import HubCore
import Hummingbird
import HummingbirdCore
import Logging
import MQTTBroker
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// One HTTP listener of the hub (`http` or `https`): a Hummingbird application on `HTTPServerChannel`,
/// serving a router and MQTT over WebSockets on one port.
///
/// A `Service`: `run()` binds, serves until graceful shutdown (then stops accepting, closes idle HTTP
/// connections and waits for the others; MQTT connections end when the broker shuts down), and throws if
/// it cannot bind. `bound()` waits for the bind and returns the address, so a caller can start listeners
/// one after another and report each.
public final class HTTPListener: Service, Sendable {
    /// One listener's settings, with defaults.
    public struct Configuration: Sendable {
        /// `http` or `https`, as in logs and metrics; also the broker's listener name for MQTT connections.
        public var name: String
        public var host: String
        /// 0 picks a free port (see `bound()`).
        public var port: Int
        /// The server context for `https` (`ServerTLS`); nil for plain HTTP.
        public var tls: NIOSSLContext?
        /// Paths where WebSocket upgrades become MQTT connections (`/mqtt`, `/$iothub/websocket`).
        public var webSocketPaths: [String]
        /// Checked on every accepted connection; denied ones are closed before anything is read.
        public var ipFilter = IPFilter()
        /// The TLS handshake plus the first request head, and each request's body, must arrive within this.
        public var requestTimeout: TimeAmount = .seconds(30)
        /// A keep-alive connection with no request in progress is closed after this.
        public var idleTimeout: Duration = .seconds(30)
        /// Header limits of the HTTP parser (a request over them is refused with 400 and closed).
        public var maximumHeaderFieldSize = 16 * 1024
        public var maximumHeaderListSize = 64 * 1024
        public var maximumHeaderFieldCount = 100
        /// Pending connections the kernel queues.
        public var backlog = 1024

        public init(name: String, host: String, port: Int, tls: NIOSSLContext?, webSocketPaths: [String]) {
            self.name = name
            self.host = host
            self.port = port
            self.tls = tls
            self.webSocketPaths = webSocketPaths
        }
    }

    public let configuration: Configuration
    private let application: Application<RouterResponder<APIRequestContext>>
    private let events: AsyncStream<Result<SocketAddress, any Error>>
    private let eventSink: AsyncStream<Result<SocketAddress, any Error>>.Continuation

    /// - Parameters:
    ///   - router: what HTTP requests are answered with (`ServiceAPI.makeRouter`).
    ///   - broker: takes over upgraded MQTT-over-WebSocket connections.
    ///   - logger: Hummingbird's own chatter is kept at `notice` and above.
    ///   - eventSockets: the API whose events endpoint WebSocket upgrades of `/events/{group}` read.
    public init(
        configuration: Configuration, router: Router<APIRequestContext>, broker: MQTTBroker, eventSockets: ServiceAPI? = nil,
        eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        let (events, sink) = AsyncStream<Result<SocketAddress, any Error>>.makeStream()
        self.events = events
        self.eventSink = sink
        self.application = Self.makeApplication(
            configuration: configuration, router: router, broker: broker, eventSockets: eventSockets, eventLoopGroup: eventLoopGroup,
            logger: logger, onBound: { sink.yield(.success($0)) })
    }

    /// A listener serving `api` (or, without one, only MQTT over WebSockets, with JSON 404s elsewhere).
    public convenience init(
        configuration: Configuration, api: ServiceAPI?, broker: MQTTBroker, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        let router =
            api?.makeRouter(webSocketPaths: configuration.webSocketPaths)
            ?? ServiceAPI.makeEmptyRouter(webSocketPaths: configuration.webSocketPaths, logger: logger)
        self.init(configuration: configuration, router: router, broker: broker, eventSockets: api, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// The Hummingbird application of a listener (tests run it with HummingbirdTesting's `.live`).
    static func makeApplication(
        configuration: Configuration, router: Router<APIRequestContext>, broker: MQTTBroker, eventSockets: ServiceAPI? = nil,
        eventLoopGroup: any EventLoopGroup, logger: Logger, onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) -> Application<RouterResponder<APIRequestContext>> {
        var quiet = logger
        if quiet.logLevel < .notice { quiet.logLevel = .notice }
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                HTTPServerChannel(responder: responder, configuration: configuration, broker: broker, eventSockets: eventSockets)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), backlog: configuration.backlog, reuseAddress: true),
            onServerRunning: { channel in
                if let address = channel.localAddress { onBound(address) }
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: quiet)
    }

    public func run() async throws {
        do {
            try await application.run()
            eventSink.finish()
        } catch {
            eventSink.yield(.failure(error))
            eventSink.finish()
            throw error
        }
    }

    /// The bound address, once `run()` has bound; throws what binding threw. Call once.
    public func bound() async throws -> SocketAddress {
        for await event in events {
            return try event.get()
        }
        throw CancellationError()
    }
}
