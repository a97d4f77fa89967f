import NIOCore
import NIOHTTP1

/// Answers plain HTTP requests on a WebSocket listener: `426 Upgrade Required` on an MQTT path,
/// a JSON `404` elsewhere. Later HTTP APIs replace it.
final class HTTPFallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Pipeline name, so the upgrade can remove it.
    static let name = "meridian.http-fallback"

    private let webSocketPaths: [String]
    private var head: HTTPRequestHead?

    init(webSocketPaths: [String]) {
        self.webSocketPaths = webSocketPaths
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break  // bodies are not read
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            if webSocketPaths.contains(path) {
                respond(context: context, head: head, status: .upgradeRequired, code: "UpgradeRequired",
                        message: "This path serves MQTT over WebSockets (subprotocol mqtt)")
            } else {
                respond(context: context, head: head, status: .notFound, code: "NotFound", message: "No such resource")
            }
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, code: String, message: String) {
        let body = #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        if status == .upgradeRequired {
            headers.add(name: "Upgrade", value: "websocket")
        }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
