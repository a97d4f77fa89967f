import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A raw TCP (optionally TLS) connection for tests that speak HTTP and WebSocket by hand: slow bodies,
/// smuggling, oversized headers, upgrades. Inbound bytes are collected by a handler; reads poll them.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Collector

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes += Array(buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, received: Collector) {
        self.channel = channel
        self.received = received
    }

    static func open(port: Int, tls: NIOSSLContext? = nil, serverName: String? = "localhost") async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: collector)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Waits until `predicate` holds on what has arrived, the peer closes, or `timeout` passes.
    /// Returns everything read so far and whether the peer closed.
    func read(timeout: Duration = .seconds(5), until predicate: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }) async throws
        -> (bytes: [UInt8], closed: Bool)
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = received.state.withLock { $0 }
            if predicate(snapshot.bytes) || snapshot.closed || ContinuousClock.now >= deadline { return snapshot }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The response head (status line and headers) as text, once `\r\n\r\n` arrived.
    func readHead(timeout: Duration = .seconds(5)) async throws -> String {
        let (bytes, _) = try await read(timeout: timeout) { $0.containsSubsequence(Array("\r\n\r\n".utf8)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func close() async {
        try? await channel.close()
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start..<start + needle.count].elementsEqual(needle) { return true }
        return false
    }
}

/// WebSocket framing for tests: a client frame is masked (RFC 6455 §5.3).
enum WebSocketFrames {
    static func upgradeRequest(path: String, subprotocol: String? = "mqtt") -> String {
        var request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let subprotocol { request += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        return request + "\r\n"
    }

    static func binary(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count < 126)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return [0x82, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// MQTT 3.1.1 CONNECT, clean session, keep alive 60.
    static func connect(clientID: String) -> [UInt8] {
        let id = Array(clientID.utf8)
        let variable: [UInt8] = [0x00, 0x04] + Array("MQTT".utf8) + [0x04, 0x02, 0x00, 0x3C]
        let payload: [UInt8] = [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        let body = variable + payload
        return [0x10, UInt8(body.count)] + body
    }
}
