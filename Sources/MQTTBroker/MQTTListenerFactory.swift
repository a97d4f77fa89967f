import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL

/// Builds the server bootstrap and channel pipeline of each transport. MQTT over WebSockets is served by
/// the hub's HTTP listeners, which hand upgraded channels to `MQTTBroker.configureWebSocketConnection`.
struct MQTTListenerFactory {
    let core: BrokerCore

    func bind(_ listener: MQTTListenerConfiguration) async throws -> MQTTBoundListener {
        let core = self.core
        let name = listener.name
        let transport = listener.transport
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
                    try Self.configure(channel, transport: transport, name: name, core: core)
                }
            }
        let channel = try await bootstrap.bind(host: listener.host, port: listener.port).get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw ChannelError.unknownLocalAddress
        }
        return MQTTBoundListener(configuration: listener, localAddress: address, channel: channel)
    }

    private static func configure(_ channel: any Channel, transport: MQTTTransport, name: String, core: BrokerCore) throws {
        let sync = channel.pipeline.syncOperations
        switch transport {
        case .tcp:
            try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: name))
        case .tls(let context):
            let certificates = PresentedClientCertificates()
            try sync.addHandler(NIOSSLServerHandler(context: context, customVerificationCallback: certificates.callback))
            try sync.addHandler(MQTTConnectionHandler(core: core, listenerName: name, clientCertificates: certificates))
        }
    }
}

/// A connection refused at accept time by the broker's admission check.
struct AdmissionRefused: Error {}
