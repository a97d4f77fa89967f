import Foundation
import HubCore
import HubEventLog
import Logging
import Synchronization

/// Message routing for the hub: keeps the routing table (validated, stored), runs one dispatcher per
/// custom endpoint while `run()` runs, and restarts the ones a table change affects. Dispatchers read
/// the event log from their own durable positions (see `EndpointDispatcher`), so an endpoint that is
/// down, slow, removed or added never holds back ingestion or the other endpoints.
public actor MessageRouter {
    public struct Settings: Sendable {
        /// Events read from a partition per step.
        public var batchSize = 256
        /// First retry delay after a failed delivery; doubles per failure up to `retryCap`.
        public var retryBase: Duration = .milliseconds(500)
        public var retryCap: Duration = .seconds(30)
        /// How long a twin read for `$twin` conditions and enrichments is reused.
        public var twinCacheLifetime: Duration = .seconds(1)

        public init() {}
    }

    /// Where endpoints keep their state and output.
    public struct Locations: Sendable {
        /// Relative `fileStorage` directories are below this (`<data-dir>/routing/storage`); an endpoint
        /// without a directory writes to `<storageRoot>/<endpoint>`.
        public var storageRoot: String
        /// Queue endpoints' logs (`<data-dir>/routing/queues/<name>`).
        public var queuesRoot: String
        /// Endpoint positions (`<data-dir>/routing/positions`).
        public var positionsDirectory: String

        public init(storageRoot: String, queuesRoot: String, positionsDirectory: String) {
            self.storageRoot = storageRoot
            self.queuesRoot = queuesRoot
            self.positionsDirectory = positionsDirectory
        }

        /// The standard layout below `<data-dir>/routing`.
        public init(routingDirectory: String) {
            self.init(
                storageRoot: "\(routingDirectory)/storage", queuesRoot: "\(routingDirectory)/queues",
                positionsDirectory: "\(routingDirectory)/positions")
        }
    }

    private let log: EventLog
    private let store: any RoutingStore
    private let locations: Locations
    private let hubName: String
    private let queueConfiguration: EventLog.Configuration
    private let settings: Settings
    private let logger: Logger
    private let positions: EndpointPositions
    private let twins: TwinCache
    private nonisolated let current: CurrentRouting

    private struct Running {
        var endpoint: RoutingEndpoint
        var dispatcher: EndpointDispatcher
        var task: Task<Void, Never>
    }

    private var running: [String: Running] = [:]
    private var started = false

    /// Loads and compiles the stored table (a stored table that no longer validates is an error: the
    /// hub must not route by half a table).
    public init(
        log: EventLog, store: any RoutingStore, locations: Locations, hubName: String,
        queueConfiguration: EventLog.Configuration = EventLog.Configuration(), settings: Settings = Settings(),
        twinLookup: @escaping @Sendable (DeviceID, ModuleID?) async -> JSONValue?, logger: Logger = Logger(label: "meridian.routing")
    ) throws(RoutingError) {
        self.log = log
        self.store = store
        self.locations = locations
        self.hubName = hubName
        self.queueConfiguration = queueConfiguration
        self.settings = settings
        self.logger = logger
        positions = EndpointPositions(directory: locations.positionsDirectory)
        twins = TwinCache(lookup: twinLookup, lifetime: settings.twinCacheLifetime)
        current = CurrentRouting(try store.load().compiled())
    }

    /// The table in force.
    public nonisolated var table: RoutingTable { current.value.table }

    /// Which endpoints `message` would go to under the table in force, reading the sending device's
    /// twin when a condition needs it. For `POST /routing/test`.
    public nonisolated func test(_ message: DeviceMessage) async -> CompiledRouting.Decision {
        let routing = current.value
        let key = message.connectionModuleID.map { "\(message.connectionDeviceID?.rawValue ?? "")/\($0.rawValue)" } ?? (message.connectionDeviceID?.rawValue ?? "")
        let event = HubEventLog.LogEvent(offset: 0, sequenceNumber: 0, enqueuedTime: message.enqueuedTime ?? .now(), partitionKey: key, message: message)
        let twin = routing.needsTwin ? await twins.twin(of: event) : nil
        return routing.decide(event, twin: twin)
    }

    /// Runs the dispatchers until the task is cancelled, then stops them and closes their sinks.
    public func run() async {
        started = true
        do {
            try FileManager.default.createDirectory(atPath: locations.positionsDirectory, withIntermediateDirectories: true)
        } catch {
            logger.error("routing: cannot create \(locations.positionsDirectory): \(error)")
        }
        await reconcile()
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        for name in running.keys.sorted() { await stop(name, removePositions: false, removeQueue: false) }
        started = false
    }

    /// Applies `change` to the table, validates and stores the result, puts it in force and restarts
    /// the endpoints it affects. Nothing changes when it throws.
    @discardableResult
    public func update(_ change: @Sendable (inout RoutingTable) throws(RoutingError) -> Void) async throws(RoutingError) -> RoutingTable {
        let previous = self.table
        var table = previous
        try change(&table)
        let compiled = try table.compiled()
        // A new endpoint starts at the end of the log as it is now, so every message accepted after this
        // call returns reaches it (its dispatcher may start a moment later).
        for endpoint in table.endpoints where previous.endpoint(named: endpoint.name)?.typeName != endpoint.typeName {
            var ends: [Int: Int64] = [:]
            for partition in 0..<log.partitionCount { ends[partition] = (try? log.bounds(partition: partition).next) ?? 0 }
            do {
                try FileManager.default.createDirectory(atPath: locations.positionsDirectory, withIntermediateDirectories: true)
                try positions.save(endpoint.name, ends)
            } catch {
                throw RoutingError(.storage, "cannot record endpoint \(endpoint.name)'s start: \(error)")
            }
        }
        try store.save(table)
        current.value = compiled
        if started { await reconcile() }
        return table
    }

    /// Every custom endpoint's status, lag included, in name order.
    public func status() -> [EndpointStatus] {
        running.keys.sorted().compactMap { name in
            guard var status = running[name]?.dispatcher.status.withLock({ $0 }) else { return nil }
            status.lag = 0
            for partition in 0..<log.partitionCount {
                guard let bounds = try? log.bounds(partition: partition) else { continue }
                let position = max(status.positions[partition] ?? bounds.next, bounds.earliest)
                status.lag += max(0, bounds.next - position)
            }
            return status
        }
    }

    /// The log of queue endpoint `name`, while it runs.
    public func queue(named name: String) -> EventLog? {
        (running[name]?.dispatcher.sink as? QueueSink)?.log
    }

    /// The log and consumer groups of queue endpoint `name`, while it runs (for `/routing/queues/{name}/events`).
    public func queueReader(named name: String) -> (log: EventLog, groups: ConsumerGroups)? {
        guard let sink = running[name]?.dispatcher.sink as? QueueSink else { return nil }
        return (sink.log, sink.groups)
    }

    // MARK: dispatchers

    private func reconcile() async {
        let endpoints = table.endpoints
        let wanted = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.name, $0) })
        for (name, entry) in running where wanted[name] != entry.endpoint {
            // Gone: forget its positions. Another type: `update` already set its new start.
            await stop(name, removePositions: wanted[name] == nil, removeQueue: wanted[name]?.typeName != entry.endpoint.typeName)
        }
        for endpoint in endpoints where running[endpoint.name] == nil {
            do {
                try start(endpoint)
            } catch {
                logger.error("routing endpoint \(endpoint.name): cannot start: \(error)")
            }
        }
    }

    private func start(_ endpoint: RoutingEndpoint) throws {
        let sink: any EndpointSink
        switch endpoint.kind {
        case .fileStorage(let directory):
            sink = FileStorageSink(root: fileStorageRoot(endpoint.name, directory))
        case .webhook(let settings):
            sink = WebhookSink(endpoint: endpoint.name, settings: settings)
        case .queue:
            let directory = "\(locations.queuesRoot)/\(endpoint.name)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            sink = try QueueSink(directory: directory, configuration: queueConfiguration)
        }
        let current = self.current
        let dispatcher = EndpointDispatcher(
            name: endpoint.name, type: endpoint.typeName, sink: sink, log: log, positions: positions,
            routing: { current.value }, twins: twins, hubName: hubName, settings: settings, logger: logger)
        let task = Task { await dispatcher.run() }
        running[endpoint.name] = Running(endpoint: endpoint, dispatcher: dispatcher, task: task)
        logger.info("routing endpoint \(endpoint.name) (\(endpoint.typeName)) started")
    }

    /// Where a file storage endpoint writes: its directory (absolute, or relative to the storage root),
    /// else `<storageRoot>/<endpoint>`.
    public nonisolated func fileStorageRoot(_ endpoint: String, _ directory: String?) -> String {
        guard let directory else { return "\(locations.storageRoot)/\(endpoint)" }
        return directory.hasPrefix("/") ? directory : "\(locations.storageRoot)/\(directory)"
    }

    private func stop(_ name: String, removePositions: Bool, removeQueue: Bool) async {
        guard let entry = running.removeValue(forKey: name) else { return }
        entry.task.cancel()
        await entry.task.value
        await entry.dispatcher.sink.close()
        if removePositions { positions.remove(name) }
        if removeQueue, case .queue = entry.endpoint.kind {
            try? FileManager.default.removeItem(atPath: "\(locations.queuesRoot)/\(name)")
        }
        logger.info("routing endpoint \(name) stopped")
    }
}

/// The compiled table in force, shared by the router and its dispatchers.
final class CurrentRouting: Sendable {
    private let state: Mutex<CompiledRouting>

    init(_ routing: CompiledRouting) {
        state = Mutex(routing)
    }

    var value: CompiledRouting {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
