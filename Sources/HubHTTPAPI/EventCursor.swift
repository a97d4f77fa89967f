import HubCore
import HubEventLog
import NIOCore

/// A reader's position in the event log across the partitions it reads, shared by the streaming
/// flavours of `GET /events/{group}` (Server-Sent Events and WebSocket).
///
/// `readRound` reads one batch per partition; the caller writes it out before reading the next round, so
/// a slow reader holds at most one round in memory. With `autoCheckpoint` the positions written are
/// committed to the group about once a second and when the stream ends.
struct EventCursor {
    /// What a round yields, in partition order.
    enum Item {
        /// An event; `positions` are every partition's next offset after it (an SSE id).
        case event(partition: Int, LogEvent, positions: [Int: Int64])
        /// Retention deleted events of `partition` before the reader got to them.
        case skipped(partition: Int, EventLog.Skipped)
    }

    static let batchSize = 100

    let endpoint: EventEndpoint
    let group: String
    let autoCheckpoint: Bool
    /// Partition → next offset to read.
    private(set) var positions: [Int: Int64]
    private var committed: [Int: Int64]
    private var lastCommit = ContinuousClock.now

    init(_ request: EventReadRequest, endpoint: EventEndpoint) {
        self.endpoint = endpoint
        self.group = request.group
        self.autoCheckpoint = request.autoCheckpoint
        self.positions = request.positions
        self.committed = request.positions
    }

    /// One batch of every partition, in order; empty when the reader is at the end of all of them.
    mutating func readRound() -> [Item] {
        var items: [Item] = []
        for partition in positions.keys.sorted() {
            guard let result = try? endpoint.log.read(partition: partition, from: positions[partition]!, limit: Self.batchSize) else {
                continue
            }
            if let skipped = result.skipped { items.append(.skipped(partition: partition, skipped)) }
            for event in result.events {
                positions[partition] = event.offset + 1
                items.append(.event(partition: partition, event, positions: positions))
            }
            positions[partition] = result.nextOffset
        }
        return items
    }

    /// Waits until an event arrives past the positions (true), the timeout passes (false) or `stop`
    /// is requested (true).
    func waitForEvents(_ stop: StreamStop, timeout: Duration) async -> Bool {
        await stop.wait(endpoint.log, positions, timeout: timeout)
    }

    /// Commits the positions written, when automatic checkpoints are on and a second has passed (or
    /// `force`, at the end of the stream).
    mutating func commitIfDue(force: Bool = false) {
        guard autoCheckpoint, force || ContinuousClock.now - lastCommit >= .seconds(1) else { return }
        for (partition, next) in positions where committed[partition] != next {
            if (try? endpoint.groups.checkpoint(group: group, partition: partition, nextOffset: next)) != nil { committed[partition] = next }
        }
        lastCommit = .now
    }

    /// Whether the stream should end: stop requested, the task cancelled, or the log closed.
    func shouldEnd(_ stop: StreamStop) -> Bool {
        Task.isCancelled || stop.requested || endpoint.log.isClosed
    }
}
