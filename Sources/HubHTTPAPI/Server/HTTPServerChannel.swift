import HTTPTypes
import HubCore
import Hummingbird
import HummingbirdCore
import Logging
import MQTTBroker
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOWebSocket

/// The child channel of the hub's HTTP listeners (`http` and `https`): one port serves the REST API
/// through Hummingbird and MQTT over WebSockets through the broker (Azure multiplexes REST and MQTT-WS
/// on 443 the same way, protocol reference §2.9).
///
/// Modelled on HummingbirdWebSocket's `HTTP1WebSocketUpgradeChannel`. Per connection, in order:
/// 1. the IP filter decides on the peer address and denied connections are closed at once;
/// 2. `FirstRequestDeadlineHandler` bounds the TLS handshake and first request head;
/// 3. TLS (optional) with a per-connection `PresentedClientCertificates`, so X.509 devices can
///    authenticate over `wss://` too;
/// 4. NIO's typed HTTP upgrade: a WebSocket upgrade on one of `webSocketPaths` (query ignored) that
///    offers `mqtt`/`mqttv3.1` or no subprotocol becomes a broker connection
///    (`MQTTBroker.configureWebSocketConnection`), which then owns the channel; an upgrade on
///    `/events/{consumerGroup}` is checked like the REST call and becomes an `EventSocketSession`; any other first request
///    goes to Hummingbird's responder, behind `RequestGuardHandler` and Hummingbird's idle handler. An
///    upgrade we refuse (wrong path, foreign subprotocol) is answered 400 and closed.
struct HTTPServerChannel: ServerChildChannel, HTTPChannelHandler {
    /// What the first request turned the connection into.
    enum Upgrade: Sendable {
        /// The broker owns the channel.
        case mqtt
        /// A WebSocket reader of the event log (`GET /events/{group}`).
        case events(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, EventSocketSession)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade we refuse, with the error to answer (nil: wrong path or subprotocol).
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError?)
    }

    struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let configuration: HTTPListener.Configuration
    let broker: MQTTBroker
    /// Accepts WebSocket upgrades of `/events/{group}`; nil leaves them to the refusal.
    let eventSockets: ServiceAPI?

    /// WebSocket frames may carry the broker's largest packet plus framing slack.
    var maximumFrameSize: Int { broker.configuration.maximumPacketSize + 1024 }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            if !configuration.ipFilter.isEmpty {
                // Same rule as the broker's admission: an address we cannot read falls to the default.
                let filter = configuration.ipFilter
                let allowed = channel.remoteAddress?.addressBytes.map(filter.allows) ?? filter.defaultAllow
                guard allowed else {
                    logger.debug("connection refused by the IP filter", metadata: ["listener": "\(configuration.name)"])
                    channel.close(promise: nil)
                    throw IPFilterRefusal()
                }
            }
            let sync = channel.pipeline.syncOperations
            let firstRequest = FirstRequestDeadlineHandler(timeout: configuration.requestTimeout)
            try sync.addHandler(firstRequest)
            let firstRequestDeadline = NIOLoopBound(firstRequest, eventLoop: channel.eventLoop)
            var certificates: PresentedClientCertificates?
            if let tls = configuration.tls {
                let presented = PresentedClientCertificates()
                certificates = presented
                try sync.addHandler(NIOSSLServerHandler(context: tls, customVerificationCallback: presented.callback))
            }
            let clientCertificates = certificates
            let parseErrors = HTTPParseErrorHandler()
            let parseErrorHandler = NIOLoopBound(parseErrors, eventLoop: channel.eventLoop)
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let eventSession = NIOLoopBoundBox<EventSocketSession?>(nil, eventLoop: channel.eventLoop)
            let eventRefusal = NIOLoopBoundBox<APIError?>(nil, eventLoop: channel.eventLoop)
            let paths = configuration.webSocketPaths
            let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                maxFrameSize: maximumFrameSize,
                enableAutomaticErrorHandling: true,
                shouldUpgrade: { [eventSockets] channel, head in
                    upgradeAttempted.value = true
                    if let api = eventSockets, let group = EventSocketSession.consumerGroup(inPath: Self.rawPath(head.uri)) {
                        do throws(APIError) {
                            eventSession.value = try api.openEventSocket(group: group, head: head)
                            return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                        } catch {
                            eventRefusal.value = error
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                    }
                    return channel.eventLoop.makeSucceededFuture(Self.negotiate(head, paths: paths))
                },
                upgradePipelineHandler: { [broker, configuration] channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        firstRequestDeadline.value.cancel()
                        channel.pipeline.syncOperations.removeHandler(parseErrorHandler.value, promise: nil)
                        if let session = eventSession.value {
                            return Upgrade.events(try EventSocketSession.configure(channel), session)
                        }
                        try broker.configureWebSocketConnection(
                            channel, listenerName: configuration.name, clientCertificates: clientCertificates)
                        return Upgrade.mqtt
                    }
                })
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [configuration] channel in
                    channel.eventLoop.makeCompletedFuture {
                        firstRequestDeadline.value.cancel()
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(HTTP1ToHTTPServerCodec(secure: configuration.tls != nil))
                        try sync.addHandler(RequestGuardHandler(requestTimeout: configuration.requestTimeout))
                        try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return upgradeAttempted.value ? .refusedUpgrade(http, eventRefusal.value) : .http(http)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgradeConfiguration)
            pipeline.enablePipelining = false  // NIOAsyncChannel serializes requests
            pipeline.enableErrorHandling = false  // parse errors reach Hummingbird, which answers 400 and closes
            pipeline.enableResponseHeaderValidation = false  // HTTPTypes validates
            pipeline.decoderConfiguration.maxHeaderFieldSize = configuration.maximumHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = configuration.maximumHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = configuration.maximumHeaderFieldCount
            let upgrade = try sync.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            try sync.addHandler(parseErrors)
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgrade.get() {
            case .mqtt:
                // The broker's handler owns the channel; this task only lives as long as it does, so
                // Hummingbird's graceful shutdown waits for the broker to close it.
                try? await value.channel.closeFuture.get()
            case .events(let socket, let session):
                await session.run(socket)
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refusedUpgrade(let http, let error):
                await refuseUpgrade(http, error)
            }
        } catch {
            logger.trace("connection ended before its first request was routed: \(type(of: error))")
        }
    }

    /// The refusal in Azure's error shape (400 for a wrong path or subprotocol), then close.
    private func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ refusal: APIError?) async {
        let error =
            refusal
            ?? APIError(
                .argumentInvalid,
                "WebSocket upgrades are served on \(configuration.webSocketPaths.joined(separator: ", ")) with subprotocol mqtt, and on /events/{consumerGroup}")
        var (head, body) = APIErrorMiddleware.parts(for: error, trackingID: APIErrorMiddleware.trackingID(), closeConnection: true)
        head.headerFields[.contentLength] = String(body.count)
        try? await http.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [.head(head), .body(ByteBuffer(bytes: body)), .end(nil)])
        }
    }

    /// The answer to an upgrade request: headers to send (with the chosen subprotocol), or nil to refuse.
    static func negotiate(_ head: HTTPRequestHead, paths: [String]) -> HTTPHeaders? {
        let rawPath = rawPath(head.uri)
        let path = PercentEncoding.decode(rawPath.utf8) ?? rawPath
        guard paths.contains(path), let chosen = MQTTBroker.webSocketSubprotocol(offered: head.headers["Sec-WebSocket-Protocol"]) else {
            return nil
        }
        var headers = HTTPHeaders()
        if !chosen.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
        return headers
    }
}

extension HTTPServerChannel {
    /// The path of a request target, query removed, not decoded.
    static func rawPath(_ uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
    }
}

/// A connection refused at accept time by the IP filter.
struct IPFilterRefusal: Error {}

extension SocketAddress {
    /// The IP address as 4 or 16 bytes (nil for a Unix domain socket).
    var addressBytes: [UInt8]? {
        switch self {
        case .v4(let address):
            let value = UInt32(bigEndian: address.address.sin_addr.s_addr)
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .v6(let address):
            return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }
}
