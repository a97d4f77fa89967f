import HubCore
import HubEventLog
import Logging
import Synchronization

/// What an endpoint has done, for `/metrics` and `GET /routing/endpoints`.
public struct EndpointStatus: Sendable, Hashable {
    public enum Health: String, Sendable, Hashable {
        /// Delivering (or idle) without errors.
        case healthy
        /// The last delivery failed; retrying with back-off. The endpoint falls behind; nothing is lost
        /// while the log retains its events.
        case unhealthy
    }

    public var endpoint: String
    public var type: String
    public var health: Health = .healthy
    /// Records delivered.
    public var delivered: Int64 = 0
    /// Events read from the log (matching or not).
    public var read: Int64 = 0
    /// Failed delivery attempts.
    public var failures: Int64 = 0
    /// Events retention deleted before this endpoint read them (the endpoint was down longer than the
    /// log keeps events): reported, never hidden.
    public var lost: Int64 = 0
    /// Events in the log after the endpoint's positions.
    public var lag: Int64 = 0
    /// The last failure, safe to show (no payloads, no secrets).
    public var lastError: String?
    public var lastErrorTime: Timestamp?
    public var lastDeliveryTime: Timestamp?
    /// Next offset per partition.
    public var positions: [Int: Int64] = [:]

    public init(endpoint: String, type: String) {
        self.endpoint = endpoint
        self.type = type
    }
}

/// Feeds one endpoint from the log: reads each partition from the endpoint's durable position, keeps the
/// events the routing table sends to it, hands them to the sink, and moves the position only after the
/// sink took them. A failing sink is retried with exponential back-off (`retryBase` doubling up to
/// `retryCap`) on the same events; the log keeps them, so the endpoint only falls behind.
final class EndpointDispatcher: Sendable {
    let name: String
    let sink: any EndpointSink
    private let log: EventLog
    private let positions: EndpointPositions
    private let routing: @Sendable () -> CompiledRouting
    private let twins: TwinCache
    private let hubName: String
    private let logger: Logger
    private let settings: MessageRouter.Settings
    let status: Mutex<EndpointStatus>

    init(
        name: String, type: String, sink: any EndpointSink, log: EventLog, positions: EndpointPositions,
        routing: @escaping @Sendable () -> CompiledRouting, twins: TwinCache, hubName: String, settings: MessageRouter.Settings, logger: Logger
    ) {
        self.name = name
        self.sink = sink
        self.log = log
        self.positions = positions
        self.routing = routing
        self.twins = twins
        self.hubName = hubName
        self.settings = settings
        self.logger = logger
        status = Mutex(EndpointStatus(endpoint: name, type: type))
    }

    /// Where to start: the saved positions, moved forward to what the sink already holds; partitions
    /// with neither start at the end of the log (a new endpoint gets new messages, as in Azure).
    private func startPositions() async -> [Int: Int64] {
        var next = positions.load(name)
        let recovered: [Int: Int64]
        do {
            recovered = try await sink.recoveredPositions(partitions: log.partitionCount)
        } catch {
            logger.warning("routing endpoint \(name): could not inspect its output on start: \(error)")
            recovered = [:]
        }
        for partition in 0..<log.partitionCount {
            if let held = recovered[partition], held > next[partition] ?? Int64.min { next[partition] = held }
            if next[partition] == nil { next[partition] = (try? log.bounds(partition: partition).next) ?? 0 }
        }
        return next
    }

    /// Runs until the task is cancelled.
    func run() async {
        var next = await startPositions()
        try? positions.save(name, next)
        status.withLock { $0.positions = next }
        var lastSave = ContinuousClock.now
        var unsaved = false
        while !Task.isCancelled {
            var progressed = false
            for partition in 0..<log.partitionCount where !Task.isCancelled {
                let from = next[partition] ?? 0
                let result: EventLog.ReadResult
                do {
                    result = try log.read(partition: partition, from: from, limit: settings.batchSize)
                } catch {
                    if error.code == .closed { return }
                    logger.error("routing endpoint \(name): reading partition \(partition) failed: \(error.message)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                if let skipped = result.skipped {
                    let lost = skipped.earliest - skipped.requested
                    status.withLock { $0.lost += lost }
                    logger.error("routing endpoint \(name): \(lost) events of partition \(partition) were deleted by retention before delivery")
                }
                guard !result.events.isEmpty || result.nextOffset != from else { continue }
                let records = await select(result.events, partition: partition)
                if !records.isEmpty {
                    guard await deliverRetrying(records, partition: partition) else { return }
                }
                next[partition] = result.nextOffset
                unsaved = true
                progressed = true
                let delivered = Int64(records.count)
                let read = Int64(result.events.count)
                status.withLock { s in
                    s.read += read
                    s.positions = next
                    if delivered > 0 {
                        s.delivered += delivered
                        s.lastDeliveryTime = .now()
                    }
                }
                // Positions are saved after every delivery, and at most once a second while only
                // non-matching events move them.
                if delivered > 0 || ContinuousClock.now - lastSave > .seconds(1) {
                    save(next)
                    lastSave = .now
                    unsaved = false
                }
            }
            if !progressed {
                if unsaved {
                    save(next)
                    unsaved = false
                }
                _ = await log.waitForEvents(anyOf: next, timeout: .seconds(1))
            }
        }
        if unsaved { save(next) }
    }

    private func save(_ next: [Int: Int64]) {
        do {
            try positions.save(name, next)
        } catch {
            logger.error("routing endpoint \(name): saving its position failed: \(error.message)")
        }
    }

    /// The events of `events` routed here, with this endpoint's enrichments.
    private func select(_ events: [HubEventLog.LogEvent], partition: Int) async -> [RoutedRecord] {
        let routing = routing()
        var records: [RoutedRecord] = []
        for event in events {
            let twin = routing.needsTwin ? await twins.twin(of: event) : nil
            guard routing.decide(event, twin: twin).endpoints.contains(name) else { continue }
            records.append(RoutedRecord(event: event, partition: partition, enrichments: routing.enrichments(for: name, twin: twin, hubName: hubName)))
        }
        return records
    }

    /// Delivers until it works (true) or the task is cancelled (false).
    private func deliverRetrying(_ records: [RoutedRecord], partition: Int) async -> Bool {
        let outcome = await Retry.untilDelivered(base: settings.retryBase, cap: settings.retryCap) {
            try await sink.deliver(records, partition: partition)
        } failed: { error, firstOfStreak in
            let message = (error as? EndpointDeliveryError)?.message ?? "\(error)"
            status.withLock { s in
                s.failures += 1
                s.health = .unhealthy
                s.lastError = message
                s.lastErrorTime = .now()
            }
            // One log line per failure streak, not per attempt.
            if firstOfStreak { logger.error("routing endpoint \(name): delivery failed (\(message)); retrying with back-off") }
        }
        switch outcome {
        case .cancelled:
            return false
        case .delivered(let afterFailures):
            if afterFailures {
                logger.notice("routing endpoint \(name): delivering again")
                status.withLock { $0.health = .healthy }
            }
            return true
        }
    }
}

/// The sending devices' twins, for conditions and enrichments that read `$twin`, cached for
/// `lifetime` (a twin change reaches routing within that long) and bounded in size.
final class TwinCache: Sendable {
    typealias Lookup = @Sendable (_ device: DeviceID, _ module: ModuleID?) async -> JSONValue?

    private let lookup: Lookup
    private let lifetime: Duration
    private let capacity: Int
    private let entries = Mutex<[String: (twin: JSONValue?, expires: ContinuousClock.Instant)]>([:])

    init(lookup: @escaping Lookup, lifetime: Duration = .seconds(1), capacity: Int = 100_000) {
        self.lookup = lookup
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func twin(of event: HubEventLog.LogEvent) async -> JSONValue? {
        guard let device = event.message.connectionDeviceID else { return nil }
        let module = event.message.connectionModuleID
        let key = module.map { "\(device.rawValue)/\($0.rawValue)" } ?? device.rawValue
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[key] }), cached.expires > now { return cached.twin }
        let twin = await lookup(device, module)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (twin, now + lifetime)
        }
        return twin
    }
}
