import HubCore
import HubEventLog
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The WebSocket flavour of `GET /events/{consumerGroup}`: the same query parameters and start positions
/// as the Server-Sent Events stream, authenticated the same way (a `service` policy SAS token in the
/// `Authorization` header of the upgrade request, checked before the upgrade is accepted; a refused
/// upgrade gets the REST API's JSON error).
///
/// Server → client, text frames:
/// - one event per frame, the JSON record of `LogEvent.json` (`deviceId`, `partition`, `offset`, …);
/// - `{"skipped": {"partition", "requested", "earliest"}}` when retention overtook the reader;
/// - `{"consumerGroup", "partitions": [...]}` answering a checkpoint command, as
///   `GET /events/{group}/checkpoints` does;
/// - `{"error": {"code", "message"}}` for a command that was refused (the stream goes on).
///
/// Client → server, text frames: `{"checkpoints": [{"partition": 0, "offset": 41}]}` (offset = the last
/// event processed), the body of `POST /events/{group}/checkpoints`. Pings are answered with pongs; the
/// server pings after 15 s without events; a close frame is answered and ends the stream, and a graceful
/// shutdown closes with 1001 (going away). Binary frames are refused with 1003.
///
/// Backpressure: a round of events (one batch per partition) is read only after the previous one was
/// handed to the socket, and a write waits while the socket is not writable, so a slow reader holds the
/// hub to one round of memory.
struct EventSocketSession: Sendable {
    /// Largest command frame (after reassembling fragments).
    static let maximumCommandSize = 64 * 1024
    static let pingInterval: Duration = .seconds(15)
    /// How long the server waits for the peer's close frame after sending its own.
    static let closeHandshakeTimeout: Duration = .seconds(2)

    let endpoint: EventEndpoint
    let request: EventReadRequest

    /// The consumer group named by a `/events/{group}` path (query removed, percent-decoded), else nil.
    static func consumerGroup(inPath rawPath: String) -> String? {
        let prefix = "/events/"
        guard rawPath.hasPrefix(prefix) else { return nil }
        let segment = rawPath.dropFirst(prefix.count)
        guard !segment.isEmpty, !segment.contains("/") else { return nil }
        return PercentEncoding.decode(segment.utf8)
    }

    /// Pipeline additions for an upgraded connection: fragments reassembled up to the command limit.
    static func configure(_ channel: any Channel) throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        try channel.pipeline.syncOperations.addHandler(
            NIOWebSocketFrameAggregator(
                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: maximumCommandSize))
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
    }

    /// Streams until the peer closes, the connection fails, the log closes or the hub shuts down.
    func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async {
        let stop = StreamStop()
        let closing = CloseHandshake()
        try? await channel.executeThenClose { inbound, outbound in
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { await stream(outbound, stop: stop, closing: closing) }
                    tasks.addTask { await serveCommands(inbound, outbound, closing: closing) }
                    await tasks.next()
                    stop.request()
                    // Whichever ended first, give the other (the peer's close, or a last write) a moment.
                    tasks.addTask { try? await Task.sleep(for: Self.closeHandshakeTimeout) }
                    await tasks.next()
                    tasks.cancelAll()
                }
            } onGracefulShutdown: {
                stop.request()
            }
        }
    }

    private func stream(_ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, stop: StreamStop, closing: CloseHandshake) async {
        var cursor = EventCursor(request, endpoint: endpoint)
        while !cursor.shouldEnd(stop) {
            let items = cursor.readRound()
            do {
                if !items.isEmpty {
                    try await outbound.write(contentsOf: items.map(Self.frame))
                } else if !(await cursor.waitForEvents(stop, timeout: Self.pingInterval)) {
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "meridian")))
                }
            } catch {
                break  // the peer went away
            }
            cursor.commitIfDue()
        }
        cursor.commitIfDue(force: true)
        if closing.claim() {
            try? await outbound.write(Self.closeFrame(.goingAway))
        }
    }

    private func serveCommands(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, _ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        closing: CloseHandshake
    ) async {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .ping:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .text:
                    try await outbound.write(Self.textFrame(JSONWriter.bytes(answer(frame.unmaskedData))))
                case .connectionClose:
                    if closing.claim() {
                        // Echo the peer's status code, as RFC 6455 §5.5.1 suggests.
                        var data = frame.unmaskedData
                        let code = data.readInteger(as: UInt16.self).map { WebSocketErrorCode(codeNumber: Int($0)) } ?? .normalClosure
                        try await outbound.write(Self.closeFrame(code))
                    }
                    return
                case .binary:
                    if closing.claim() { try await outbound.write(Self.closeFrame(.unacceptableData)) }
                    return
                default:
                    continue  // pongs; continuations arrive reassembled
                }
            }
        } catch {
            // A protocol error (NIO answers it with a close frame) or a connection that failed.
        }
    }

    /// The reply to one command frame.
    private func answer(_ data: ByteBuffer) -> JSONValue {
        do throws(APIError) {
            let json: JSONValue
            do {
                json = try JSONParser.parse(Array(data.readableBytesView))
            } catch {
                throw APIError(.argumentInvalid, "\(error)")
            }
            return try ServiceAPI.commitCheckpoints(json, group: request.group, endpoint)
        } catch {
            return .object(JSONObject(["error": .object(JSONObject(["code": .string(error.code.name), "message": .string(error.message)]))]))
        }
    }

    private static func frame(_ item: EventCursor.Item) -> WebSocketFrame {
        switch item {
        case .event(let partition, let event, _):
            return textFrame(event.json(partition: partition))
        case .skipped(let partition, let skipped):
            return textFrame(JSONWriter.bytes(.object(JSONObject(["skipped": ServiceAPI.skippedJSON(partition, skipped)]))))
        }
    }

    private static func textFrame(_ bytes: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes))
    }

    private static func closeFrame(_ code: WebSocketErrorCode) -> WebSocketFrame {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}

/// Who sends the one close frame of a connection: the first to claim it.
private final class CloseHandshake: Sendable {
    private let sent = Mutex(false)

    /// True for the first caller only.
    func claim() -> Bool {
        sent.withLock { sent in
            defer { sent = true }
            return !sent
        }
    }
}

extension ServiceAPI {
    /// Checks a WebSocket upgrade of `GET /events/{group}` the way the REST route is checked (token and
    /// rights, the registry-rate budget, the group, the query), before the upgrade is accepted.
    func openEventSocket(group: String, head: HTTPRequestHead) throws(APIError) -> EventSocketSession {
        _ = try authenticator.authorize(head.headers.first(name: "Authorization"), required: ServiceRoute.readEvents.rights)
        try throttle.admit()
        let endpoint = try eventEndpoint
        let name = try Self.existingGroup(group, endpoint)
        let uri = URI(head.uri)
        let request = try EventReadRequest(
            query: { uri.queryParameters[$0[...]].map(String.init) }, lastEventID: nil, endpoint: endpoint, group: name)
        return EventSocketSession(endpoint: endpoint, request: request)
    }
}
