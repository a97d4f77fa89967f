import HTTPTypes
import HubCore
import HubEventLog
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// The hub's event log and its consumer groups, as the `/events` routes read them.
public struct EventEndpoint: Sendable {
    public let log: EventLog
    public let groups: ConsumerGroups

    public init(log: EventLog, groups: ConsumerGroups) {
        self.log = log
        self.groups = groups
    }
}

/// `/events/{consumerGroup}` and `/consumergroups`: reading the built-in events endpoint.
///
/// `GET /events/{group}?from=checkpoint|earliest|latest|<ISO-8601 time>|<offset>&partition=N`
/// - with `Accept: text/event-stream`: a Server-Sent Events stream, one `data:` line per event
///   (`LogEvent.json`), its `id:` the next offset of every partition read (`0:42,1:17,…`), so an
///   `EventSource` that reconnects with `Last-Event-ID` resumes exactly; `event: skipped` when retention
///   deleted events the reader had not read; a `: keepalive` comment every 15 s of silence. The stream
///   reads a batch only after the previous one was written to the socket, so a slow reader costs one
///   batch of memory, never more. `checkpoint=auto` commits the group's checkpoints about once a second
///   for what was written.
/// - otherwise: one JSON batch `{"events": [...], "positions": [{"partition", "next"}], "skipped": [...]}`
///   of at most `limit` (1…1000, default 100) events, for polling readers.
/// Without `from`, each partition starts at the group's checkpoint, or at the earliest retained event.
extension ServiceAPI {
    static let keepAliveInterval: Duration = .seconds(15)

    func eventsCall(_ call: APICall) async throws(APIError) -> APIResult {
        let endpoint = try eventEndpoint
        switch call.route {
        case .getCheckpoints:
            return .ok(try Self.checkpointsJSON(endpoint, group: try consumerGroup(call, endpoint)))
        case .commitCheckpoints:
            let group = try consumerGroup(call, endpoint)
            return .ok(try Self.commitCheckpoints(try call.jsonBody, group: group, endpoint))
        case .listConsumerGroups:
            return .ok(.array(endpoint.groups.names.map(JSONValue.string)))
        case .putConsumerGroup:
            let name = try call.capture("consumerGroup")
            try eventLogCall { () throws(EventLogError) in try endpoint.groups.create(name) }
            return .ok(.object(JSONObject(["name": .string(name)])))
        case .deleteConsumerGroup:
            let name = try consumerGroup(call, endpoint)
            guard name != ConsumerGroups.defaultGroup else { throw .invalid("$Default cannot be deleted") }
            try eventLogCall { () throws(EventLogError) in try endpoint.groups.delete(name) }
            return .noContent
        case .readEvents:
            let request = try EventReadRequest(call, endpoint: endpoint, group: try consumerGroup(call, endpoint))
            return .ok(try readBatch(request, endpoint))
        default:
            throw APIError(.serverError, "not an events route")
        }
    }

    /// The SSE stream of `readEvents` (the caller checked `Accept`).
    func eventStream(_ call: APICall) async throws(APIError) -> Response {
        let endpoint = try eventEndpoint
        let request = try EventReadRequest(call, endpoint: endpoint, group: try consumerGroup(call, endpoint))
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            // A graceful shutdown ends the stream (the reader reconnects with Last-Event-ID elsewhere).
            var cursor = EventCursor(request, endpoint: endpoint)
            let stop = StreamStop()
            await withGracefulShutdownHandler {
                while !cursor.shouldEnd(stop) {
                    var buffer = ByteBuffer()
                    for item in cursor.readRound() {
                        switch item {
                        case .skipped(let partition, let skipped):
                            buffer.writeString("event: skipped\ndata: ")
                            buffer.writeBytes(JSONWriter.bytes(Self.skippedJSON(partition, skipped)))
                            buffer.writeString("\n\n")
                        case .event(let partition, let event, let positions):
                            buffer.writeString("id: \(Self.eventID(positions))\ndata: ")
                            buffer.writeBytes(event.json(partition: partition))
                            buffer.writeString("\n\n")
                        }
                    }
                    do {
                        if buffer.readableBytes > 0 {
                            try await writer.write(buffer)
                        } else if !(await cursor.waitForEvents(stop, timeout: Self.keepAliveInterval)) {
                            try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
                        }
                    } catch {
                        break  // the reader went away
                    }
                    cursor.commitIfDue()
                }
                cursor.commitIfDue(force: true)
            } onGracefulShutdown: {
                stop.request()
            }
            try? await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Whether the request asks for Server-Sent Events.
    static func wantsEventStream(_ request: Request) -> Bool {
        request.headers[.accept]?.lowercased().contains("text/event-stream") ?? false
    }

    /// `0:42,1:17`: the next offset of every partition read, as an SSE id and `Last-Event-ID`.
    static func eventID(_ positions: [Int: Int64]) -> String {
        positions.keys.sorted().map { "\($0):\(positions[$0]!)" }.joined(separator: ",")
    }

    static func skippedJSON(_ partition: Int, _ skipped: EventLog.Skipped) -> JSONValue {
        .object(JSONObject([
            "partition": .int(partition), "requested": .number(String(skipped.requested)), "earliest": .number(String(skipped.earliest)),
        ]))
    }

    func readBatch(_ request: EventReadRequest, _ endpoint: EventEndpoint) throws(APIError) -> JSONValue {
        var events: [JSONValue] = []
        var skippedItems: [JSONValue] = []
        var positions = request.positions
        let partitions = positions.keys.sorted()
        let share = max(1, request.limit / max(1, partitions.count))
        for partition in partitions {
            let remaining = request.limit - events.count
            guard remaining > 0 else { break }
            let result = try eventLogCall { () throws(EventLogError) in
                try endpoint.log.read(partition: partition, from: positions[partition]!, limit: partition == partitions.last ? remaining : min(share, remaining))
            }
            if let skipped = result.skipped { skippedItems.append(Self.skippedJSON(partition, skipped)) }
            events += result.events.map { .object($0.jsonObject(partition: partition)) }
            positions[partition] = result.nextOffset
        }
        let positionItems: [JSONValue] = partitions.map { .object(JSONObject(["partition": .int($0), "next": .number(String(positions[$0]!))])) }
        return .object(JSONObject(["events": .array(events), "positions": .array(positionItems), "skipped": .array(skippedItems)]))
    }

    /// Commits `{"checkpoints": [{"partition", "offset"}]}` (offset = the last event processed) and
    /// answers the group's checkpoints, as `POST /events/{group}/checkpoints` and the WebSocket command do.
    static func commitCheckpoints(_ json: JSONValue, group: String, _ endpoint: EventEndpoint) throws(APIError) -> JSONValue {
        let reader = try JSONReader(json)
        try reader.allowOnly(["checkpoints"])
        guard let items = try reader.array("checkpoints") else { throw APIError(.argumentNull, "checkpoints is required") }
        for item in items {
            let entry = try JSONReader(item, path: "checkpoints[]")
            try entry.allowOnly(["partition", "offset"])
            guard let partition = try entry.int("partition"), let offset = try entry.int("offset") else {
                throw APIError(.argumentNull, "each checkpoint needs partition and offset (the last event processed)")
            }
            guard (0..<endpoint.log.partitionCount).contains(partition), offset >= -1 else {
                throw .invalid("checkpoint partition or offset out of range")
            }
            try eventLogCallStatic { () throws(EventLogError) in
                try endpoint.groups.checkpoint(group: group, partition: partition, nextOffset: Int64(offset) + 1)
            }
        }
        return try checkpointsJSON(endpoint, group: group)
    }

    static func checkpointsJSON(_ endpoint: EventEndpoint, group: String) throws(APIError) -> JSONValue {
        var items: [JSONValue] = []
        for partition in 0..<endpoint.log.partitionCount {
            let (checkpoint, bounds) = try eventLogCallStatic { () throws(EventLogError) in
                (try endpoint.groups.checkpoint(group: group, partition: partition), try endpoint.log.bounds(partition: partition))
            }
            let position = max(checkpoint ?? bounds.earliest, bounds.earliest)
            items.append(.object(JSONObject([
                "partition": .int(partition),
                "offset": checkpoint.map { .number(String($0 - 1)) } ?? .null,
                "earliest": .number(String(bounds.earliest)),
                "next": .number(String(bounds.next)),
                "lag": .number(String(max(0, bounds.next - position))),
            ])))
        }
        return .object(JSONObject(["consumerGroup": .string(group), "partitions": .array(items)]))
    }

    var eventEndpoint: EventEndpoint {
        get throws(APIError) {
            guard let events else { throw APIError(.serviceUnavailable, "the event log is not available") }
            return events
        }
    }

    private func consumerGroup(_ call: APICall, _ endpoint: EventEndpoint) throws(APIError) -> String {
        try Self.existingGroup(try call.capture("consumerGroup"), endpoint)
    }

    /// `name`, if the consumer group exists (404 otherwise).
    static func existingGroup(_ name: String, _ endpoint: EventEndpoint) throws(APIError) -> String {
        guard endpoint.groups.names.contains(name) else { throw APIError(.notFound, "no consumer group \(ConsumerGroups.isValid(name) ? name : "with that name")") }
        return name
    }

    @discardableResult
    func eventLogCall<T>(_ body: () throws(EventLogError) -> T) throws(APIError) -> T {
        try Self.eventLogCallStatic(body)
    }
}

/// What a `GET /events/{group}` asks for: where each partition starts, and how to read.
struct EventReadRequest: Sendable {
    var group: String
    /// Partition → next offset to read.
    var positions: [Int: Int64]
    var limit: Int
    var autoCheckpoint: Bool

    init(_ call: APICall, endpoint: EventEndpoint, group: String) throws(APIError) {
        try self.init(
            query: { call.query($0) }, lastEventID: call.request.headers[HTTPField.Name("Last-Event-ID")!], endpoint: endpoint, group: group)
    }

    /// - Parameters:
    ///   - query: a query parameter, percent-decoded.
    ///   - lastEventID: an SSE `Last-Event-ID` (`0:42,1:17`), which overrides the start of the partitions it names.
    init(query: (String) -> String?, lastEventID: String?, endpoint: EventEndpoint, group: String) throws(APIError) {
        self.group = group
        let count = endpoint.log.partitionCount
        var partitions = Array(0..<count)
        if let text = query("partition") {
            guard let p = Int(text), (0..<count).contains(p) else { throw .invalid("partition must be 0…\(count - 1)") }
            partitions = [p]
        }
        limit = 100
        if let text = query("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { throw .invalid("limit must be 1…1000") }
            limit = n
        }
        switch query("checkpoint") {
        case nil, "manual": autoCheckpoint = false
        case "auto": autoCheckpoint = true
        default: throw .invalid("checkpoint must be auto or manual")
        }
        let start: EventLog.StartPosition?
        switch query("from") {
        case nil, "checkpoint": start = nil
        case "earliest": start = .earliest
        case "latest": start = .latest
        case let text?:
            if let offset = Int64(text), offset >= 0 {
                start = .offset(offset)
            } else if let time = Timestamp(iso8601: text) {
                start = .enqueuedTime(time)
            } else {
                throw .invalid("from must be checkpoint, earliest, latest, an offset or an ISO-8601 time")
            }
        }
        var positions: [Int: Int64] = [:]
        for partition in partitions {
            positions[partition] = try ServiceAPI.eventLogCallStatic { () throws(EventLogError) in
                if let start { return try endpoint.log.resolve(start, partition: partition) }
                return try endpoint.groups.position(group: group, partition: partition, default: .earliest)
            }
        }
        // An EventSource reconnecting resumes where its last event left every partition.
        if let last = lastEventID {
            for item in last.split(separator: ",") {
                let pair = item.split(separator: ":")
                if pair.count == 2, let p = Int(pair[0]), let o = Int64(pair[1]), positions[p] != nil, o >= 0 { positions[p] = o }
            }
        }
        self.positions = positions
    }
}

extension ServiceAPI {
    static func eventLogCallStatic<T>(_ body: () throws(EventLogError) -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch {
            throw error.code == .invalidArgument ? APIError(.argumentInvalid, error.message) : APIError(.serviceUnavailable, "the event log failed: \(error.message)")
        }
    }
}

/// Ends an event stream on graceful shutdown: a flag the loop checks, and the cancellation of the wait
/// it may be suspended in.
final class StreamStop: Sendable {
    private let state = Mutex<(requested: Bool, wait: Task<Bool, Never>?)>((false, nil))

    var requested: Bool { state.withLock { $0.requested } }

    func request() {
        state.withLock { state in
            state.requested = true
            return state.wait
        }?.cancel()
    }

    /// `EventLog.waitForEvents(anyOf:timeout:)`, cancelled by `request()`; true when not timed out.
    func wait(_ log: EventLog, _ positions: [Int: Int64], timeout: Duration) async -> Bool {
        let task = Task { await log.waitForEvents(anyOf: positions, timeout: timeout) }
        let stopped = state.withLock { state in
            state.wait = task
            return state.requested
        }
        if stopped { task.cancel() }
        let result = await task.value
        state.withLock { $0.wait = nil }
        return result || requested
    }
}
