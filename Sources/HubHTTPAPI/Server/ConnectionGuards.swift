import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Closes a connection that has not finished its TLS handshake and first request head within `timeout`
/// (slowloris on the handshake or the first header block, test plan H11/H12). It sits first in the
/// pipeline, passes everything through, and is cancelled as soon as the first request is routed (to
/// HTTP or to a WebSocket upgrade), where the next guard takes over.
final class FirstRequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var scheduled: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        scheduled = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    /// The first request was routed: stop the clock.
    func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}

/// Per-request rules of an HTTP connection, on the HTTP parts Hummingbird reads and writes:
/// - a request whose body has not fully arrived `requestTimeout` after its head closes the connection
///   (a chunked body that never ends, a 1 byte/s body: test plan H11);
/// - a response carrying `Connection: close` closes the connection once written, so a request refused
///   before its body was read (401, 413, 415 …) is never drained.
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let requestTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var closeAfterResponse = false

    init(requestTimeout: TimeAmount) {
        self.requestTimeout = requestTimeout
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            let channel = context.channel
            context.writeAndFlush(data).assumeIsolated().whenComplete { result in
                promise?.completeWith(result)
                channel.close(promise: nil)
            }
        }
    }
}

/// Answers a request the HTTP parser refuses with Azure's error body and closes the connection: 431 for
/// headers over the limits (test plan H12), 400 for the rest, among them a request carrying both
/// `Content-Length` and `Transfer-Encoding` (llhttp refuses it: request smuggling, H21). It sits right
/// after NIO's decoder, so it covers the first request (still in the upgrade handler, which would
/// otherwise leave the connection hanging) and every later one (where Hummingbird would answer with
/// an empty 400).
final class HTTPParseErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let apiError: APIError
        if parseError == .headerOverflow {
            apiError = APIError(.headersTooLarge, "the request headers exceed the limits")
        } else {
            apiError = APIError(.argumentInvalid, "the request is not valid HTTP/1.1")
        }
        let (response, body) = APIErrorMiddleware.parts(for: apiError, trackingID: APIErrorMiddleware.trackingID(), closeConnection: true)
        var headers = HTTPHeaders()
        for field in response.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status.code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in channel.close(promise: nil) }
    }
}
