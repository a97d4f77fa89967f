import Foundation
import HubCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on 127.0.0.1 that answers webhook POSTs with a status chosen by the test and keeps
/// the bodies of the requests it answered with a 2xx.
final class WebhookReceiver: Sendable {
    struct Request: Sendable {
        var headers: [(String, String)]
        var body: [UInt8]
    }

    private struct State {
        var status: Int = 200
        var accepted: [Request] = []
        var refused = 0
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let channel: any Channel
    let port: Int

    init() async throws {
        let shared = self.shared
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(shared: shared))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// The status the next requests get.
    func answer(_ status: Int) { shared.state.withLock { $0.status = status } }

    var accepted: [Request] { shared.state.withLock { $0.accepted } }
    var refused: Int { shared.state.withLock { $0.refused } }

    /// Every record of every accepted POST, in arrival order.
    var records: [JSONObject] {
        accepted.flatMap { request -> [JSONObject] in
            guard case .array(let items)? = try? JSONParser.parse(request.body) else { return [] }
            return items.compactMap { if case .object(let o) = $0 { o } else { nil } }
        }
    }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let shared: Shared
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(shared: Shared) {
            self.shared = shared
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                let request = Request(headers: head?.headers.map { ($0.name, $0.value) } ?? [], body: body)
                let status = shared.state.withLock { s -> Int in
                    if (200..<300).contains(s.status) { s.accepted.append(request) } else { s.refused += 1 }
                    return s.status
                }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                let responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
