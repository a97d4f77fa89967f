import DequeModule
import HubCore
import Synchronization

/// A `TelemetrySink` that keeps the last `capacity` messages in memory and counts everything appended:
/// for tests, development, and a live monitor (`recent`, `subscribe`). Completions run at once (nothing
/// is durable).
public final class InMemoryTelemetrySink: TelemetrySink {
    /// One appended message.
    public struct Entry: Hashable, Sendable {
        /// Position in the sink, from 0, in append order.
        public var offset: Int64
        public var partitionKey: String
        /// The message, with `sequenceNumber` set to `offset`.
        public var message: DeviceMessage
    }

    /// Totals since the sink was created.
    public struct Counters: Hashable, Sendable {
        /// Messages appended.
        public var messages: Int64 = 0
        /// Their sizes as Azure counts them (`DeviceMessage.sizeInBytes`).
        public var bytes: Int64 = 0
    }

    private struct State {
        var ring = Deque<Entry>()
        var counters = Counters()
        var subscribers: [Int: AsyncStream<Entry>.Continuation] = [:]
        var nextSubscriber = 0
    }

    /// How many recent messages are kept.
    public let capacity: Int
    private let state = Mutex(State())

    /// A sink keeping the last `capacity` (at least 1) messages.
    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    public func append(
        _ message: DeviceMessage, partitionKey: String,
        completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void
    ) {
        state.withLock { state in
            var stamped = message
            stamped.sequenceNumber = state.counters.messages
            let entry = Entry(offset: state.counters.messages, partitionKey: partitionKey, message: stamped)
            state.counters.messages += 1
            state.counters.bytes += Int64(message.sizeInBytes)
            if state.ring.count == capacity { state.ring.removeFirst() }
            state.ring.append(entry)
            // Under the lock, so every subscriber sees offsets in order; yield never blocks.
            for continuation in state.subscribers.values { continuation.yield(entry) }
        }
        completion(.success(()))
    }

    /// The most recent messages, oldest first: all kept ones, or the last `limit`.
    public func recent(_ limit: Int? = nil) -> [Entry] {
        state.withLock { state in
            guard let limit, limit < state.ring.count else { return Array(state.ring) }
            return Array(state.ring.suffix(max(0, limit)))
        }
    }

    /// Totals since the sink was created.
    public var counters: Counters { state.withLock { $0.counters } }

    /// Messages appended from now on. A slow reader loses the oldest undelivered ones beyond
    /// `bufferingNewest` (at least 1) rather than slowing the sink down. Ends when the consumer cancels.
    public func subscribe(bufferingNewest: Int = 256) -> AsyncStream<Entry> {
        let (stream, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(max(1, bufferingNewest)))
        let id = state.withLock { state in
            defer { state.nextSubscriber += 1 }
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Live subscriptions (tests).
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
