extension EventLog {
    /// A live reader of one partition: an `AsyncSequence` that reads `batchSize` events at a time when
    /// the consumer asks for more (so buffering is bounded and a slow consumer just reads later), and
    /// waits for new commits once caught up. Ends when the log closes or the task is cancelled.
    public struct Subscription: AsyncSequence, Sendable {
        /// One item: an event, or the notice that retention deleted events the reader had not read.
        public enum Element: Sendable, Hashable {
            case event(LogEvent)
            case skipped(Skipped)
        }

        let log: EventLog
        let partition: Int
        let start: Int64
        let batchSize: Int

        public func makeAsyncIterator() -> Iterator {
            Iterator(log: log, partition: partition, next: start, batchSize: batchSize)
        }

        public struct Iterator: AsyncIteratorProtocol {
            let log: EventLog
            let partition: Int
            /// The offset after the last event handed out: a consumer checkpoints this.
            public private(set) var next: Int64
            let batchSize: Int
            var buffer: [LogEvent] = []
            var index = 0

            init(log: EventLog, partition: Int, next: Int64, batchSize: Int) {
                self.log = log
                self.partition = partition
                self.next = next
                self.batchSize = batchSize
            }

            public mutating func next() async throws -> Element? {
                while true {
                    if index < buffer.count {
                        defer { index += 1 }
                        next = buffer[index].offset + 1
                        return .event(buffer[index])
                    }
                    if Task.isCancelled { return nil }
                    let result = try log.read(partition: partition, from: next, limit: batchSize)
                    buffer = result.events
                    index = 0
                    if let skipped = result.skipped {
                        next = skipped.earliest
                        return .skipped(skipped)
                    }
                    if !buffer.isEmpty { continue }
                    next = result.nextOffset
                    guard await log.partitions[partition].waitForEvents(at: next) else { return nil }
                }
            }
        }
    }

    /// A live reader of `partition` from `position` (see `Subscription`).
    public func subscribe(partition: Int, from position: StartPosition, batchSize: Int = 100) throws(EventLogError) -> Subscription {
        guard batchSize >= 1 else { throw EventLogError(.invalidArgument, "batchSize must be positive") }
        return Subscription(log: self, partition: partition, start: try resolve(position, partition: partition), batchSize: batchSize)
    }
}

extension EventLog {
    /// Suspends until one of `positions` (partition → next offset to read) has a committed event at or
    /// after its offset, `timeout` passes, the log closes or the task is cancelled. Returns true when
    /// events may be there (or the log closed: the next read says so), false on timeout. For readers
    /// that merge several partitions in one loop (the `/events` streams).
    public func waitForEvents(anyOf positions: [Int: Int64], timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for (partition, offset) in positions where partitions.indices.contains(partition) {
                group.addTask { _ = await self.partitions[partition].waitForEvents(at: offset); return true }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
