import MQTTCodec
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Builds the server bootstrap and channel pipeline of each transport.
struct MQTTListenerFactory {
    let core: BrokerCore

    func bind(_ listener: MQTTListenerConfiguration) async throws -> MQTTBoundListener {
        let core = self.core
        let name = listener.name
        let transport = listener.transport
        let maxFrame = core.configuration.maximumPacketSize + 1024
        let bootstrap = ServerBootstrap(group: core.group)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 8)
            .childChannelOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 64 * 1024))
            .childChannelInitializer { channel in
                if let admission = core.admission, !admission(channel.remoteAddress) {
                    // Refused by the IP filter: closed before a byte is read.
                    return channel.eventLoop.makeFailedFuture(AdmissionRefused())
                }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, transport: transport, name: name, core: core, maxFrame: maxFrame)
                }
            }
        let channel = try await bootstrap.bind(host: listener.host, port: listener.port).get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw ChannelError.unknownLocalAddress
        }
        return MQTTBoundListener(configuration: listener, localAddress: address, channel: channel)
    }

    private static func configure(_ channel: any Channel, transport: MQTTTransport, name: String, core: BrokerCore, maxFrame: Int) throws {
        let sync = channel.pipeline.syncOperations
        switch transport {
        case .tcp:
            try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: name))
        case .tls(let context):
            let certificates = PresentedClientCertificates()
            try sync.addHandler(NIOSSLServerHandler(context: context, customVerificationCallback: certificates.callback))
            try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: name, clientCertificates: certificates))
        case .webSocket(let paths, let tls):
            let certificates = tls.map { _ in PresentedClientCertificates() }
            if let tls, let certificates {
                try sync.addHandler(NIOSSLServerHandler(context: tls, customVerificationCallback: certificates.callback))
            }
            let fallback = HTTPFallbackHandler(webSocketPaths: paths)
            let upgrader = NIOWebSocketServerUpgrader(
                maxFrameSize: maxFrame,
                automaticErrorHandling: true,
                shouldUpgrade: { channel, head in
                    channel.eventLoop.makeSucceededFuture(WebSocketSubprotocol.negotiate(head, paths: paths))
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(WebSocketMQTTFramer())
                        try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: name, clientCertificates: certificates))
                    }
                })
            try sync.configureHTTPServerPipeline(
                withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                    // The plain-HTTP responder has no business on an upgraded connection.
                    context.pipeline.syncOperations.removeHandler(name: HTTPFallbackHandler.name, promise: nil)
                }),
                withErrorHandling: true)
            try sync.addHandler(fallback, name: HTTPFallbackHandler.name)
        }
    }
}

/// A connection refused at accept time by the broker's admission check.
struct AdmissionRefused: Error {}

/// Chooses the WebSocket subprotocol for an upgrade request on one of `paths`.
enum WebSocketSubprotocol {
    /// Headers to answer the upgrade with, or nil to refuse it (wrong path, or only foreign subprotocols).
    static func negotiate(_ head: HTTPRequestHead, paths: [String]) -> HTTPHeaders? {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard paths.contains(path), let chosen = MQTTBroker.webSocketSubprotocol(offered: head.headers["Sec-WebSocket-Protocol"]) else {
            return nil
        }
        var headers = HTTPHeaders()
        if !chosen.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
        return headers
    }
}
