import HubCore

extension EventLog {
    /// What `read` returns.
    public struct ReadResult: Sendable, Hashable {
        /// Events in offset order (at most `limit`).
        public var events: [LogEvent]
        /// Where to continue reading.
        public var nextOffset: Int64
        /// Set when the requested offset had been deleted by retention: reading skipped to the earliest
        /// retained offset, and the caller should say so (events between were lost to it).
        public var skipped: Skipped?
    }

    /// A read that started below the earliest retained offset.
    public struct Skipped: Sendable, Hashable {
        public var requested: Int64
        public var earliest: Int64
    }

    /// Where a reader starts.
    public enum StartPosition: Sendable, Hashable {
        /// The earliest retained event.
        case earliest
        /// Only events appended from now on.
        case latest
        /// A specific offset (below the earliest → `read` reports `skipped`).
        case offset(Int64)
        /// The first event enqueued at or after the time.
        case enqueuedTime(Timestamp)
    }

    /// Reads up to `limit` committed events of `partition` from `offset`. Blocking file I/O on the
    /// caller's thread (page-cache reads in the common case).
    public func read(partition: Int, from offset: Int64, limit: Int = 100) throws(EventLogError) -> ReadResult {
        try self.partition(partition).read(from: offset, limit: limit)
    }

    /// The offset a reader starting at `position` reads first.
    public func resolve(_ position: StartPosition, partition: Int) throws(EventLogError) -> Int64 {
        let p = try self.partition(partition)
        switch position {
        case .earliest: return try bounds(partition: partition).earliest
        case .latest: return try bounds(partition: partition).next
        case .offset(let offset): return offset
        case .enqueuedTime(let time): return try p.offset(forTime: time.rawValue)
        }
    }
}

extension Partition {
    /// See `EventLog.read`. Segments are opened by path for each read, so retention can delete them
    /// meanwhile; a read that loses that race starts over and reports `skipped`.
    func read(from requested: Int64, limit: Int) throws(EventLogError) -> EventLog.ReadResult {
        var attempt = 0
        while true {
            attempt += 1
            let segments = shared.withLock { $0.segments }
            let earliest = segments[0].baseOffset
            let end = segments[segments.count - 1].nextOffset
            var offset = requested
            var skipped: EventLog.Skipped?
            if offset < earliest {
                skipped = EventLog.Skipped(requested: requested, earliest: earliest)
                offset = earliest
            }
            if offset >= end || limit <= 0 { return EventLog.ReadResult(events: [], nextOffset: min(offset, end), skipped: skipped) }
            var i = segments.lastIndex { $0.baseOffset <= offset } ?? 0
            var events: [LogEvent] = []
            do throws(EventLogError) {
                while events.count < limit && i < segments.count {
                    if offset < segments[i].nextOffset {
                        try readSegment(segments[i], from: offset, limit: limit, into: &events)
                        offset = events.last.map { $0.offset + 1 } ?? offset
                    }
                    if events.count < limit {
                        i += 1
                        if i < segments.count { offset = max(offset, segments[i].baseOffset) }
                    }
                }
            } catch {
                let stillThere = shared.withLock { $0.segments.first.map { $0.baseOffset <= segments[i].baseOffset } ?? false }
                if stillThere || attempt >= 3 { throw error }
                continue
            }
            return EventLog.ReadResult(events: events, nextOffset: offset, skipped: skipped)
        }
    }

    private func readSegment(_ segment: Segment, from offset: Int64, limit: Int, into events: inout [LogEvent]) throws(EventLogError) {
        let fd = try io.open(Partition.path(directory, segment.baseOffset, "log"), create: false, readOnly: true)
        defer { io.close(fd) }
        var failure: EventLogError?
        // The first read is sized for `limit` small records (reading on grows it).
        let firstChunk = min(SegmentScanner.chunkSize, max(16 * 1024, limit * 256))
        _ = try SegmentScanner.scan(io, fd, from: segment.seekPosition(for: offset).position, to: segment.size, firstChunk: firstChunk) {
            recordOffset, _, _, _, bytes, at in
            if recordOffset < offset { return true }
            do throws(EventLogError) {
                events.append(try RecordCodec.decode(from: bytes, at: at).event)
            } catch {
                failure = error
                return false
            }
            return events.count < limit
        }
        if let failure { throw failure }
    }

    /// The first offset whose enqueued time is at or after `time` (the end of the log if none).
    func offset(forTime time: Int64) throws(EventLogError) -> Int64 {
        let segments = shared.withLock { $0.segments }
        guard let segment = segments.first(where: { ($0.maxTime ?? Int64.min) >= time }) else {
            return segments[segments.count - 1].nextOffset
        }
        let from = segment.seekOffset(forTime: time)
        let fd = try io.open(Partition.path(directory, segment.baseOffset, "log"), create: false, readOnly: true)
        defer { io.close(fd) }
        var found: Int64?
        _ = try SegmentScanner.scan(io, fd, from: segment.seekPosition(for: from).position, to: segment.size) { offset, recordTime, _, _, _, _ in
            if offset >= from && recordTime >= time {
                found = offset
                return false
            }
            return true
        }
        return found ?? segment.nextOffset
    }

    /// Suspends until an event at or after `offset` is committed; false when the log closed instead.
    func waitForEvents(at offset: Int64) async -> Bool {
        let id = shared.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = shared.withLock { state in
                    if state.closed || state.segments[state.segments.count - 1].nextOffset > offset || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            shared.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
        return !shared.withLock { $0.closed }
    }
}

extension EventLog {
    /// A partition's extent, for `meridian eventlog stats` and operators.
    public struct PartitionStats: Sendable, Hashable {
        /// The partition number.
        public var partition: Int
        /// The first retained offset.
        public var earliest: Int64
        /// The offset the next event will get (`next - earliest` events are retained).
        public var next: Int64
        /// Segment files, the active one included.
        public var segments: Int
        /// Committed record bytes in those segments.
        public var bytes: Int64
    }

    /// The extent of `partition` as committed now.
    public func stats(partition: Int) throws(EventLogError) -> PartitionStats {
        let segments = try self.partition(partition).shared.withLock { $0.segments }
        return PartitionStats(
            partition: partition, earliest: segments[0].baseOffset, next: segments[segments.count - 1].nextOffset,
            segments: segments.count, bytes: segments.reduce(0) { $0 + $1.size })
    }
}
