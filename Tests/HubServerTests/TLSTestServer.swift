import HubServer
import MQTTBroker
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A bare TLS server on 127.0.0.1:<free port> for handshake tests: a NIO `ServerBootstrap` with a
/// `NIOSSLServerHandler` on each connection, optionally with `PresentedClientCertificates` installed
/// as a listener of the broker will. It records what each handshake produced and then closes the
/// connection itself.
final class TLSTestServer: Sendable {
    /// The outcome of one connection's handshake.
    enum Handshake: Sendable, Equatable {
        /// Completed; the client's presented chain (DER, leaf first), empty if it sent none.
        case completed(presentedChain: [[UInt8]])
        case failed
    }

    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let log: HandshakeLog

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, log: HandshakeLog) {
        self.port = port
        self.group = group
        self.channel = channel
        self.log = log
    }

    var recorded: [Handshake] { log.handshakes.withLock { $0 } }

    static func start(context: NIOSSLContext, acceptPresentedCertificates: Bool) async throws -> TLSTestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = HandshakeLog()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let presented = PresentedClientCertificates()
                    let tls =
                        acceptPresentedCertificates
                        ? NIOSSLServerHandler(context: context, customVerificationCallback: presented.callback)
                        : NIOSSLServerHandler(context: context)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(
                        HandshakeRecorder(presented: presented, log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = TLSTestServer(
            port: channel.localAddress!.port!, group: group, channel: channel, log: box)
        return server
    }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Shared between the server and its connections' recorders.
final class HandshakeLog: Sendable {
    let handshakes = Mutex<[TLSTestServer.Handshake]>([])
}

private final class HandshakeRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let presented: PresentedClientCertificates
    let log: HandshakeLog
    var done = false

    init(presented: PresentedClientCertificates, log: HandshakeLog) {
        self.presented = presented
        self.log = log
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !done {
            done = true
            let chain = presented.chainDER
            log.handshakes.withLock { $0.append(.completed(presentedChain: chain)) }
            // The client waits for us (s_client -ign_eof): hanging up is the server's job, so a client
            // never closes while the server is still judging its certificate.
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            log.handshakes.withLock { $0.append(.failed) }
        }
        context.close(promise: nil)
    }

}
