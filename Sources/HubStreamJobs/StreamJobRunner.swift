import Foundation
import Histogram
import HubCore
import HubEventLog
import HubRouting
import HubStreamSQL
import Logging
import Synchronization

/// A running job's numbers, for the API and `/metrics`.
public struct StreamJobStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case stopped, starting, replaying, running, failing
    }

    public var state: State = .stopped
    public var eventsIn: Int64 = 0
    /// Rows delivered per target.
    public var rowsOut: [String: Int64] = [:]
    public var lateAdjusted: Int64 = 0
    public var lateDropped: Int64 = 0
    /// Events the query failed on (bad data), and messages that are not JSON.
    public var errors: Int64 = 0
    /// Rows an output could not take and that retrying cannot fix (no deviceId, device offline).
    public var skippedRows: Int64 = 0
    /// Groups or history entries refused because the state limits were reached.
    public var overLimit: Int64 = 0
    /// Rows produced again while replaying after a restart and not delivered twice.
    public var suppressedOnReplay: Int64 = 0
    /// Events in the log after the job's positions.
    public var lag: Int64 = 0
    /// From the hub accepting the message whose arrival completed a row to that row being delivered
    /// (alarm stored, command queued, POST answered…), in microseconds: percentiles over the rows since
    /// the job started (nil before the first row). Acceptance precedes the device's acknowledgement by
    /// the log's commit, so this bounds "PUBACK → output" from above.
    public var outputLatency: LatencySummary?
    public var lastError: String?
    public var lastErrorTime: Timestamp?
    public var positions: [Int: Int64] = [:]

    public init() {}

    /// Latency percentiles in microseconds.
    public struct LatencySummary: Sendable, Hashable {
        public var p50: UInt64
        public var p99: UInt64
        public var max: UInt64
        public var count: UInt64
    }
}

/// Runs one job over the event log.
///
/// Reads every partition from the job's positions, turns each message into an event record (the JSON
/// body plus Stream Analytics' `EventEnqueuedUtcTime`, `EventProcessedUtcTime`, `PartitionId` and
/// `IoTHub` metadata), runs the query incrementally, and delivers each batch's rows to their outputs
/// (retrying a failing output with back-off: the job waits, the log keeps the events) before it reads
/// on.
///
/// **Restarts.** The checkpoint (`<dir>/checkpoint.json`, replaced atomically after each delivery and
/// every second; for a job whose outputs are all idempotent — `timeSeries` points, `memory` rows — only
/// every second and without fingerprints: a repeated point rewrites the same value, and writing the
/// fingerprints of a minute of 10,000 drones' roll-ups every second cost a sixth of the hub's CPU) holds the positions, the latest enqueued time read, and fingerprints of the rows
/// delivered in the last minute. A restarted job replays the log from `stateHorizon + tolerance + 1 min`
/// before that time, which rebuilds every open window and history; what the replayed events up to the
/// saved positions produce was delivered before and is held back, as are rows whose fingerprint was
/// delivered (both counted in `suppressedOnReplay`). So a stop and start, a hub restart or a crash between deliveries neither
/// loses nor repeats a window; a crash in the instant between a delivery and its checkpoint repeats
/// that one batch (at least once).
final class StreamJobRunner: Sendable {
    let definition: StreamJobDefinition
    private let plan: SQLPlan
    private let log: EventLog
    private let directory: String
    private let sinks: [String: any JobOutputSink]
    private let actions: JobActions
    private let logger: Logger
    let status = Mutex(StreamJobStatus())
    /// Output latency (µs) of every delivered row.
    private let latency = Mutex(Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three))

    /// Events read per partition per step.
    static let batchSize = 256
    /// Fingerprints of recently delivered rows kept in the checkpoint.
    static let maxFingerprints = 10_000

    init(definition: StreamJobDefinition, plan: SQLPlan, log: EventLog, directory: String, sinks: [String: any JobOutputSink], actions: JobActions, logger: Logger) {
        self.definition = definition
        self.plan = plan
        self.log = log
        self.directory = directory
        self.sinks = sinks
        self.actions = actions
        self.logger = logger
    }

    private var tolerance: Int64 { Int64(definition.outOfOrderToleranceSeconds * 1000) }
    /// How far before the last enqueued time a restart replays.
    private var replaySpan: Int64 { plan.stateHorizon() + tolerance + 60_000 }

    func run() async {
        status.withLock { $0.state = .starting }
        let checkpoint = Checkpoint.load(directory)
        var positions: [Int: Int64] = [:]
        var replayUntil: [Int: Int64] = [:]
        var delivered = checkpoint?.fingerprints ?? [:]
        for partition in 0..<log.partitionCount {
            let bounds = (try? log.bounds(partition: partition)) ?? (earliest: 0, next: 0)
            if let checkpoint {
                let from = (try? log.resolve(.enqueuedTime(Timestamp(rawValue: checkpoint.lastEnqueued - replaySpan)), partition: partition)) ?? bounds.earliest
                positions[partition] = max(bounds.earliest, min(from, checkpoint.positions[partition] ?? bounds.next))
                replayUntil[partition] = checkpoint.positions[partition] ?? bounds.next
            } else {
                positions[partition] = start(partition, bounds)
            }
        }
        var configuration = SQLJob.Configuration()
        configuration.outOfOrderTolerance = tolerance
        configuration.latePolicy = SQLJob.LatePolicy(rawValue: definition.latePolicy) ?? .adjust
        let actions = self.actions
        let tables = definition.referenceTables
        configuration.reference = { name in name.lowercased() == "twins" ? actions.twins() : tables[name.lowercased()] }
        var job = SQLJob(plan: plan, configuration: configuration)
        var lastEnqueued = checkpoint?.lastEnqueued ?? 0
        var lastSave = ContinuousClock.now
        var savedPositions = positions
        let idempotentOutputs = plan.outputs.allSatisfy { [.timeSeries, .memory].contains(definition.output($0).type) }
        var replaying = checkpoint != nil
        var nonJSON: Int64 = 0
        status.withLock { $0.state = replaying ? .replaying : .running }
        let sources = Set(definition.inputSources.map { $0.lowercased() })

        // Partitions are merged by enqueued time (a k-way merge over one read-ahead batch each), so a job
        // catching up or replaying sees events in about the order they arrived, as a live job does.
        var buffers: [Int: [HubEventLog.LogEvent]] = [:]
        var reads: [Int: Int64] = positions
        while !Task.isCancelled {
            // Refill the partitions whose buffer is empty.
            for partition in 0..<log.partitionCount where buffers[partition, default: []].isEmpty {
                let from = reads[partition] ?? 0
                do {
                    let result = try log.read(partition: partition, from: from, limit: Self.batchSize)
                    buffers[partition] = result.events
                    if result.events.isEmpty, result.nextOffset > from {
                        // Skipped by retention: move on.
                        positions[partition] = result.nextOffset
                    }
                    reads[partition] = result.nextOffset
                } catch {
                    if error.code == .closed { return }
                    fail("reading partition \(partition): \(error.message)")
                }
            }
            guard buffers.values.contains(where: { !$0.isEmpty }) else {
                // Caught up: persist the positions if they moved, at most once a second (every delivery to
                // a non-idempotent output was saved right after it, below). Saving at every catch-up was a
                // file replace per commit of the log.
                if positions != savedPositions, ContinuousClock.now - lastSave >= .seconds(1) {
                    save(positions: positions, lastEnqueued: lastEnqueued, delivered: &delivered)
                    savedPositions = positions
                    lastSave = .now
                }
                _ = await log.waitForEvents(anyOf: reads, timeout: .seconds(1))
                continue
            }
            var rows: [SQLOutputRow] = []
            var accepted: [Int64] = []
            var errors: Int64 = 0
            var cursors: [Int: Int] = [:]
            // Merge until a partition that may have more runs out of buffered events.
            while true {
                var next: (partition: Int, time: Int64)?
                for (partition, events) in buffers {
                    let cursor = cursors[partition, default: 0]
                    guard cursor < events.count else { continue }
                    let time = events[cursor].enqueuedTime.rawValue
                    if next == nil || time < next!.time || (time == next!.time && partition < next!.partition) { next = (partition, time) }
                }
                guard let (partition, _) = next else { break }
                let event = buffers[partition]![cursors[partition, default: 0]]
                cursors[partition, default: 0] += 1
                positions[partition] = event.offset + 1
                lastEnqueued = max(lastEnqueued, event.enqueuedTime.rawValue)
                let exhausted = cursors[partition]! == buffers[partition]!.count
                if sources.contains((event.message.messageSource ?? .telemetry).rawValue.lowercased()) {
                    if let record = Self.record(event, partition: partition) {
                        let processedBefore = event.offset < (replayUntil[partition] ?? 0)
                        for row in job.process(SQLEvent(record: record, enqueuedTime: event.enqueuedTime.rawValue)) {
                            // After a restart: what events processed before the checkpoint produce was delivered
                            // then (and may be partial now); rows whose fingerprint was delivered are not
                            // delivered again.
                            if processedBefore || Self.take(fingerprint(row), from: &delivered) {
                                status.withLock { $0.suppressedOnReplay += 1 }
                                continue
                            }
                            rows.append(row)
                            accepted.append(event.enqueuedTime.rawValue)
                        }
                    } else {
                        errors += 1
                    }
                }
                if exhausted, buffers[partition]!.count == Self.batchSize { break }
            }
            for (partition, cursor) in cursors {
                buffers[partition]!.removeFirst(cursor)
            }
            nonJSON += errors
            guard await deliver(rows) else { return }
            if !accepted.isEmpty { recordLatency(accepted) }
            let now = Timestamp.now().rawValue
            // Idempotent outputs need no fingerprints: a row delivered again rewrites the same point.
            if !idempotentOutputs {
                for row in rows { delivered[fingerprint(row), default: Checkpoint.Entry(count: 0, time: now)].count += 1 }
            }
            if replaying, positions.allSatisfy({ $0.value >= (replayUntil[$0.key] ?? 0) }) {
                replaying = false
                status.withLock { $0.state = .running }
                logger.info("stream job \(definition.name): replay done, running")
            }
            let counters = job.counters
            status.withLock { s in
                s.eventsIn = Int64(counters.eventsIn)
                s.lateAdjusted = Int64(counters.lateAdjusted)
                s.lateDropped = Int64(counters.lateDropped)
                s.errors = Int64(counters.errors) + nonJSON
                s.overLimit = Int64(counters.overLimit)
                s.positions = positions
                if let last = job.lastError, counters.errors > 0 {
                    s.lastError = "line \(last.location.line), column \(last.location.column): \(last.message)"
                }
            }
            if (!rows.isEmpty && !idempotentOutputs) || ContinuousClock.now - lastSave > .seconds(1) {
                save(positions: positions, lastEnqueued: lastEnqueued, delivered: &delivered)
                savedPositions = positions
                lastSave = .now
            }
        }
        save(positions: positions, lastEnqueued: lastEnqueued, delivered: &delivered)
    }

    private func recordLatency(_ accepted: [Int64]) {
        let now = Timestamp.now().rawValue
        let summary = latency.withLock { h in
            for time in accepted { h.record(UInt64(max(1, now - time) * 1000)) }
            return StreamJobStatus.LatencySummary(p50: h.valueAtPercentile(50), p99: h.valueAtPercentile(99), max: h.max, count: h.totalCount)
        }
        status.withLock { $0.outputLatency = summary }
    }

    private func start(_ partition: Int, _ bounds: (earliest: Int64, next: Int64)) -> Int64 {
        switch definition.startFrom {
        case "now": return bounds.next
        case "earliest": return bounds.earliest
        default:
            guard let time = SQLDateTime.parse(definition.startFrom) else { return bounds.next }
            return (try? log.resolve(.enqueuedTime(Timestamp(rawValue: time)), partition: partition)) ?? bounds.next
        }
    }

    /// Delivers rows per target (in target order), retrying a failing output with back-off; false when
    /// cancelled meanwhile.
    private func deliver(_ rows: [SQLOutputRow]) async -> Bool {
        guard !rows.isEmpty else { return true }
        var byTarget: [(String, [SQLOutputRow])] = []
        for row in rows {
            if let index = byTarget.firstIndex(where: { $0.0 == row.output }) { byTarget[index].1.append(row) } else { byTarget.append((row.output, [row])) }
        }
        for (target, targetRows) in byTarget {
            guard let sink = sinks[target.lowercased()] else { continue }
            let outcome = await Retry.untilDelivered(base: .milliseconds(500), cap: .seconds(30)) {
                try await sink.deliver(targetRows)
            } failed: { error, firstOfStreak in
                let message = "output \(target): \(error)"
                if firstOfStreak { logger.error("stream job \(definition.name): \(message); retrying with back-off") }
                fail(message)
            }
            guard case .delivered(let afterFailures) = outcome else { return false }
            status.withLock { s in
                s.rowsOut[target, default: 0] += Int64(targetRows.count)
                if s.state == .failing { s.state = .running }
            }
            if afterFailures { logger.notice("stream job \(definition.name): output \(target) delivering again") }
        }
        return true
    }

    private func fail(_ message: String) {
        status.withLock { s in
            s.state = .failing
            s.lastError = message
            s.lastErrorTime = .now()
        }
    }

    /// Counts a skipped row (an action that cannot be retried).
    func skipped(_ message: String) {
        status.withLock { s in
            s.skippedRows += 1
            s.lastError = message
            s.lastErrorTime = .now()
        }
    }

    private func save(positions: [Int: Int64], lastEnqueued: Int64, delivered: inout [UInt64: Checkpoint.Entry]) {
        // Keep the fingerprints a replay from this checkpoint could produce again.
        // Rows that events before the saved positions produce are held back on replay anyway; the
        // fingerprints only cover a replay that interleaves partitions a little differently, so the last
        // minute of deliveries (at most `maxFingerprints`) is enough and keeps the file small.
        let keepFrom = Timestamp.now().rawValue - 60_000
        delivered = delivered.filter { $0.value.time >= keepFrom }
        if delivered.count > Self.maxFingerprints {
            let newest = delivered.sorted { $0.value.time > $1.value.time }.prefix(Self.maxFingerprints)
            delivered = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
        }
        let checkpoint = Checkpoint(positions: positions, lastEnqueued: lastEnqueued, fingerprints: delivered)
        do {
            try checkpoint.save(directory)
        } catch {
            logger.error("stream job \(definition.name): saving its checkpoint failed: \(error)")
        }
    }

    static func take(_ fingerprint: UInt64, from delivered: inout [UInt64: Checkpoint.Entry]) -> Bool {
        guard var entry = delivered[fingerprint], entry.count > 0 else { return false }
        entry.count -= 1
        delivered[fingerprint] = entry.count == 0 ? nil : entry
        return true
    }

    /// The event record a query sees: the JSON object body with Stream Analytics' metadata columns
    /// added; nil when the body is not a JSON object.
    static func record(_ event: HubEventLog.LogEvent, partition: Int) -> SQLValue? {
        guard case .object(let body)? = event.bodyJSON else { return nil }
        guard case .record(var record) = SQLValue(json: .object(body)) else { return nil }
        let message = event.message
        record.set("EventEnqueuedUtcTime", .datetime(event.enqueuedTime.rawValue))
        record.set("EventProcessedUtcTime", .datetime(Timestamp.now().rawValue))
        record.set("PartitionId", .int(Int64(partition)))
        var hub = SQLRecord()
        hub.set("MessageId", message.messageID.map(SQLValue.string) ?? .null)
        hub.set("CorrelationId", message.correlationID.map(SQLValue.string) ?? .null)
        hub.set("ConnectionDeviceId", message.connectionDeviceID.map { .string($0.rawValue) } ?? .null)
        hub.set("ConnectionModuleId", message.connectionModuleID.map { .string($0.rawValue) } ?? .null)
        hub.set("ConnectionDeviceGenerationId", message.connectionAuthGenerationID.map(SQLValue.string) ?? .null)
        hub.set("EnqueuedTime", .datetime(event.enqueuedTime.rawValue))
        var properties = SQLRecord()
        for property in message.applicationProperties where properties[property.name] == nil {
            properties.set(property.name, .string(property.value ?? ""))
        }
        hub.set("StreamId", .null)
        record.set("IoTHub", .record(hub))
        record.set("Properties", .record(properties))
        return .record(record)
    }
}

/// FNV-1a 64 of the row's target, time and JSON.
func fingerprint(_ row: SQLOutputRow) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
    }
    add(row.output.lowercased().utf8)
    add(String(row.time).utf8)
    add(JSONWriter.bytes(rowJSON(row)))
    return hash
}

/// A job's durable progress.
struct Checkpoint: Sendable {
    struct Entry: Sendable, Hashable {
        var count: Int
        /// When it was delivered (wall clock, ms; for pruning).
        var time: Int64
    }

    var positions: [Int: Int64]
    var lastEnqueued: Int64
    var fingerprints: [UInt64: Entry]

    static func path(_ directory: String) -> String { "\(directory)/checkpoint.json" }

    static func load(_ directory: String) -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: path(directory)),
            case .object(let object)? = try? JSONParser.parse(Array(data)),
            case .number(let last)? = object["lastEnqueued"], let lastEnqueued = Int64(last)
        else { return nil }
        var positions: [Int: Int64] = [:]
        if case .object(let p)? = object["positions"] {
            for (key, value) in p.members {
                if let partition = Int(key), case .number(let text) = value, let offset = Int64(text) { positions[partition] = offset }
            }
        }
        var fingerprints: [UInt64: Entry] = [:]
        if case .array(let items)? = object["delivered"] {
            for item in items {
                guard case .array(let triple) = item, triple.count == 3, case .string(let hex) = triple[0], let fp = UInt64(hex, radix: 16),
                    case .number(let count) = triple[1], case .number(let time) = triple[2], let c = Int(count), let t = Int64(time)
                else { continue }
                fingerprints[fp] = Entry(count: c, time: t)
            }
        }
        return Checkpoint(positions: positions, lastEnqueued: lastEnqueued, fingerprints: fingerprints)
    }

    func save(_ directory: String) throws {
        var object = JSONObject()
        var p = JSONObject()
        for (partition, offset) in positions.sorted(by: { $0.key < $1.key }) { p[String(partition)] = .number(String(offset)) }
        object["positions"] = .object(p)
        object["lastEnqueued"] = .number(String(lastEnqueued))
        object["delivered"] = .array(fingerprints.sorted { $0.key < $1.key }.map { fp, entry in
            .array([.string(String(fp, radix: 16)), .number(String(entry.count)), .number(String(entry.time))])
        })
        try AtomicFile.write(JSONWriter.bytes(.object(object)), to: Self.path(directory), io: POSIXLogFileIO())
    }
}
