import HubCore
import HubEventLog
import Logging
import Synchronization

/// What the feed has done, for `/metrics` and `GET /timeseries/stats`.
public struct TimeSeriesFeedStatus: Sendable, Hashable {
    /// Events read from the log.
    public var events: Int64 = 0
    /// Events that gave at least one point.
    public var mapped: Int64 = 0
    /// Points written to the store.
    public var points: Int64 = 0
    /// Points the store refused (older than its out-of-order window, too far in the future, a string the
    /// string dictionary refused, or a value of the wrong kind for its series).
    public var rejected: Int64 = 0
    /// Measures beyond the mapping's per-message limit.
    public var droppedMeasures: Int64 = 0
    /// Bodies that are not JSON objects (nothing to map).
    public var unmapped: Int64 = 0
    /// Events retention deleted before the feed read them.
    public var lost: Int64 = 0
    /// Events in the log after the feed's positions.
    public var lag: Int64 = 0
    public var lastError: String?
    /// Next offset per partition.
    public var positions: [Int: Int64] = [:]

    public init() {}
}

/// Feeds the store from the event log (issue 7's ingestion): reads every partition from the feed's durable
/// position, maps each telemetry message's JSON body to points (`MeasureMapping`), appends them, makes the
/// store durable (`sync`, its write-ahead log) and only then saves the new positions. After a crash the feed
/// re-reads from the saved positions; a point written twice has the same series and time, and the store keeps
/// the last write, so the replay changes nothing — every acknowledged message's points end up queryable.
public final class TimeSeriesFeed: Sendable {
    public struct Settings: Sendable {
        /// Events read per partition and round.
        public var batchSize = 2_000
        /// Where a partition without a saved position starts (the feed of a new store takes what the log holds).
        public var startAtEarliest = true
        /// How often the store is made durable and the positions saved while events keep coming (a crash
        /// re-reads at most this much of the log).
        public var syncInterval: Duration = .milliseconds(500)
        /// After a round that caught up with the log (no partition filled a batch), wait this long before
        /// reading again, so a steady trickle of events (10,000 drones: 2,500 a second in many small
        /// commits) is taken in a few rounds a second instead of one wake-up per commit. Points become
        /// queryable at most this much later.
        public var catchUpDelay: Duration = .milliseconds(200)
        public init() {}
    }

    private let log: EventLog
    private let store: TimeSeriesStore
    private let mapping: MeasureMapping
    private let positionsPath: String
    private let settings: Settings
    private let logger: Logger
    public let status = Mutex(TimeSeriesFeedStatus())

    public init(log: EventLog, store: TimeSeriesStore, mapping: MeasureMapping = MeasureMapping(), positionsPath: String, settings: Settings = Settings(), logger: Logger) {
        self.log = log
        self.store = store
        self.mapping = mapping
        self.positionsPath = positionsPath
        self.settings = settings
        self.logger = logger
    }

    /// Runs until the task is cancelled or the log closes.
    public func run() async {
        var next = PartitionPositions.load(positionsPath)
        for partition in 0..<log.partitionCount where next[partition] == nil {
            let bounds = try? log.bounds(partition: partition)
            next[partition] = settings.startAtEarliest ? (bounds?.earliest ?? 0) : (bounds?.next ?? 0)
        }
        status.withLock { $0.positions = next }
        var batch = PointBatch(capacity: settings.batchSize * 8)
        var ids: [SeriesKey: (SeriesID, ValueType)] = [:]
        var saved = next
        var lastSync = ContinuousClock.now
        while !Task.isCancelled {
            var progressed = false
            var filled = false
            for partition in 0..<log.partitionCount where !Task.isCancelled {
                let from = next[partition] ?? 0
                let result: EventLog.ReadResult
                do {
                    result = try log.read(partition: partition, from: from, limit: settings.batchSize)
                } catch {
                    if error.code == .closed { break }
                    fail("reading partition \(partition) failed: \(error.message)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                if let skipped = result.skipped {
                    let lost = skipped.earliest - skipped.requested
                    status.withLock { $0.lost += lost }
                    logger.error("time series: \(lost) events of partition \(partition) were deleted by retention before the store read them")
                }
                guard result.nextOffset != from else { continue }
                batch.removeAll()
                var counts = TimeSeriesFeedStatus()
                for event in result.events { map(event, into: &batch, ids: &ids, counts: &counts) }
                if !batch.isEmpty {
                    guard let appended = await retrying({ () throws(TimeSeriesError) in try store.append(batch) }) else { break }
                    counts.rejected += Int64(appended.rejected)
                    counts.points += Int64(appended.accepted)
                }
                next[partition] = result.nextOffset
                progressed = true
                if result.events.count >= settings.batchSize { filled = true }
                status.withLock { s in
                    s.events += Int64(result.events.count)
                    s.mapped += counts.mapped
                    s.points += counts.points
                    s.rejected += counts.rejected
                    s.droppedMeasures += counts.droppedMeasures
                    s.unmapped += counts.unmapped
                    s.positions = next
                }
            }
            // Durable first, then the positions: a crash in between only replays (idempotently).
            if next != saved, !progressed || ContinuousClock.now - lastSync >= settings.syncInterval || Task.isCancelled {
                guard await retrying({ () throws(TimeSeriesError) in try store.sync() }) != nil else { return }
                savePositions(next)
                saved = next
                lastSync = .now
            }
            if !progressed {
                updateLag(next)
                if log.isClosed { return }
                _ = await log.waitForEvents(anyOf: next, timeout: .seconds(1))
            } else if !filled, settings.catchUpDelay > .zero {
                try? await Task.sleep(for: settings.catchUpDelay)
            }
        }
    }

    /// `body`, retried once a second while the store fails; nil when cancelled.
    private func retrying<T>(_ body: () throws(TimeSeriesError) -> T) async -> T? {
        while !Task.isCancelled {
            do {
                let value = try body()
                status.withLock { $0.lastError = nil }
                return value
            } catch {
                fail("writing to the store failed: \(error.message); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    /// Adds the points of one event to `batch`.
    private func map(_ event: HubEventLog.LogEvent, into batch: inout PointBatch, ids: inout [SeriesKey: (SeriesID, ValueType)], counts: inout TimeSeriesFeedStatus) {
        let message = event.message
        guard (message.messageSource ?? .telemetry) == .telemetry, let device = message.connectionDeviceID?.rawValue else { return }
        guard let body = try? JSONParser.parse(message.body), case .object = body else {
            counts.unmapped += 1
            return
        }
        let mapped = mapping.points(body: body, enqueuedTime: event.enqueuedTime.rawValue)
        counts.droppedMeasures += Int64(mapped.dropped)
        guard !mapped.measures.isEmpty else { return }
        counts.mapped += 1
        for measure in mapped.measures {
            let key = SeriesKey(device: device, measure: measure.name, tags: mapped.tags)
            let id: SeriesID, type: ValueType
            if let known = ids[key] {
                (id, type) = known
            } else {
                do throws(TimeSeriesError) {
                    id = try store.seriesID(device: device, measure: measure.name, tags: mapped.tags, type: measure.type)
                } catch {
                    counts.rejected += 1
                    continue
                }
                type = store.type(of: id) ?? measure.type
                if ids.count > 200_000 { ids.removeAll(keepingCapacity: true) }  // bounded cache
                ids[key] = (id, type)
            }
            // A series keeps the kind it was created with: a string for a numeric series (or the reverse) is refused.
            guard (type == .string) == (measure.type == .string) else {
                counts.rejected += 1
                continue
            }
            var value = measure.value
            if let text = measure.text {
                guard let code = try? store.stringValue(text) else {
                    counts.rejected += 1
                    continue
                }
                value = code
            }
            batch.append(id, time: mapped.time, value: value)
        }
    }

    private func fail(_ message: String) {
        let first = status.withLock { s in
            defer { s.lastError = message }
            return s.lastError == nil
        }
        if first { logger.error("time series: \(message)") }
    }

    private func updateLag(_ next: [Int: Int64]) {
        var lag: Int64 = 0
        for (partition, offset) in next {
            if let bounds = try? log.bounds(partition: partition) { lag += max(0, bounds.next - max(offset, bounds.earliest)) }
        }
        status.withLock { $0.lag = lag }
    }

    private func savePositions(_ positions: [Int: Int64]) {
        do throws(EventLogError) {
            try PartitionPositions.save(positions, to: positionsPath)
        } catch {
            fail("saving the feed position failed: \(error.message)")
        }
    }
}
