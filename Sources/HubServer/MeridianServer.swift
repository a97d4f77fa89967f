import Foundation
import HubAccess
import HubCore
import HubDevices
import HubEventLog
import HubHTTPAPI
import HubMessaging
import HubRegistry
import HubStorage
import HubStorageSQLite
import HubTwins
import Logging
import MQTTBroker
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The hub process: storage, broker and listeners, composed from a `HubConfiguration`.
///
/// Start-up, in order, so that the cheapest checks fail first and nothing is left half-open:
/// 1. the data directory (created 0700; first, because the development CA lives inside it), and its
///    lock (`DataDirectoryLock`), so a second hub on the same folder stops here;
/// 2. TLS material (`tls-cert`/`tls-key`, or the development CA in `<data-dir>/tls`), if a TLS listener
///    is enabled;
/// 3. the SQLite database `<data-dir>/meridian.sqlite` and the broker's persistence on it;
/// 4. one event loop per core, the broker, `broker.start()`;
/// 5. the enabled listeners, one log line each, then `meridian ready`: MQTT and MQTT over TLS are the
///    broker's; HTTP and HTTPS are HubHTTPAPI's `HTTPListener`s (REST API and MQTT over WebSockets).
///
/// It then waits for graceful shutdown (SIGTERM or SIGINT when run by `run(configuration:logger:)`),
/// and stops in reverse: the HTTP listeners stop accepting, `broker.shutdown()` (closes its listeners
/// and every MQTT connection, WebSocket ones included, flushes sessions), the HTTP listeners finish,
/// then persistence, the database and the event loop group. A failure at any step cleans up what was started and
/// throws a `HubServerError` whose message is one line for stderr.
public struct MeridianServer: Service {
    public let configuration: HubConfiguration
    let logger: Logger

    public init(configuration: HubConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the server in a `ServiceGroup` until SIGTERM or SIGINT, then shuts down gracefully.
    public static func run(configuration: HubConfiguration, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: MeridianServer(configuration: configuration, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// Every feature's migrations, in order. Never reorder: append.
    public static let migrations =
        SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteTwinSchema.migrations
        + SQLiteMessagingSchema.migrations + SQLiteAlarmSchema.migrations

    public func run() async throws {
        HubMetrics.bootstrap()
        try prepareDataDirectory()
        let lock = try DataDirectoryLock.acquire(dataDirectory: configuration.dataDirectory, purpose: "meridian serve")
        defer { lock.release() }
        let tls = try prepareTLS()
        let database = try openDatabase()
        let persistence = SQLiteBrokerPersistence(database: database)
        let registry = try await openRegistry(database)
        let events = try openEventLog()
        let eventLog = events.log
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: configuration.effectiveEventLoopThreads)
        var broker: MQTTBroker?
        // The registry's connection-state writer runs beside the hub and is stopped before the database.
        try await withThrowingTaskGroup(of: Void.self) { background in
            background.addTask { try await registry.connectionStateFlusher.run() }
            background.addTask { await eventLog.runRetention(every: .seconds(60), clock: ContinuousClock()) }
            background.addTask { await EventLogMetricsExporter.run(eventLog, groups: events.groups) }
            do {
                let twins = TwinService(store: SQLiteTwinStore(database: database), logger: logger)
                let cloudToDevice = try await CloudToDeviceService(store: SQLiteCloudToDeviceStore(database: database), logger: logger)
                let devices = DeviceProtocol(
                    registry: registry, twins: twins, telemetry: eventLog, cloudToDevice: cloudToDevice, logger: logger)
                background.addTask { try await devices.run() }
                let router = try openRouter(log: eventLog, registry: registry, twins: twins)
                background.addTask { await router.run() }
                background.addTask { await RoutingMetricsExporter.run(router) }
                let alarms = SQLiteAlarmStore(database: database)
                let twinsReference = TwinsReference(twins: twins, logger: logger)
                background.addTask { await twinsReference.run() }
                let timeSeries = try openTimeSeries(log: eventLog, alarms: alarms)
                let logger = self.logger
                background.addTask { await Self.runTimeSeries(timeSeries.store, feed: timeSeries.feed, logger: logger) }
                let jobs = try openJobs(
                    log: eventLog, registry: registry, twins: twins, devices: devices, cloudToDevice: cloudToDevice, alarms: alarms,
                    twinsReference: twinsReference, timeSeries: timeSeries.store)
                background.addTask { await jobs.run() }
                let services = HTTPServices(events: events, routing: router, jobs: jobs, alarms: alarms, timeSeries: timeSeries.endpoint)
                let newBroker = try await startBroker(
                    registry: registry, devices: devices, persistence: persistence, eventLoopGroup: eventLoopGroup)
                broker = newBroker
                // HTTP listeners run as child tasks; they stop on graceful shutdown (inherited from our
                // ServiceGroup), once the broker has closed their MQTT-over-WebSocket connections.
                try await withThrowingTaskGroup(of: Void.self) { httpListeners in
                    for plan in configuration.listenerPlan {
                        let port: Int
                        do {
                            port = try await bind(
                                plan, broker: newBroker, registry: registry, devices: devices, services: services, tls: tls, group: eventLoopGroup, logger: logger,
                                tasks: &httpListeners)
                        } catch {
                            throw HubServerError.cannotListen(error, listener: plan)
                        }
                        logger.info("\(plan.logLine(boundPort: port))")
                    }
                    recordHubInfo()
                    logger.info("meridian ready")
                    // Returns on SIGTERM/SIGINT; throws only when the task is cancelled, which ends us too.
                    try? await gracefulShutdown()
                    logger.info("meridian shutting down")
                    await newBroker.shutdown()
                    try await httpListeners.waitForAll()
                }
            } catch {
                await stop(broker: broker, registry: registry, background: &background, eventLog: eventLog, persistence: persistence, database: database,
                    eventLoopGroup: eventLoopGroup)
                throw error
            }
            // The broker was shut down above, before the HTTP listeners finished.
            await stop(broker: nil, registry: registry, background: &background, eventLog: eventLog, persistence: persistence, database: database,
                    eventLoopGroup: eventLoopGroup)
        }
        logger.info("meridian stopped")
    }

    /// Builds and starts the broker with the hub's authenticator and registry tracking (listeners are bound later).
    private func startBroker(
        registry: DeviceRegistry, devices: DeviceProtocol, persistence: SQLiteBrokerPersistence,
        eventLoopGroup: MultiThreadedEventLoopGroup
    ) async throws -> MQTTBroker {
        let authenticator = HubMQTTAuthenticator(
            registry: registry, hostNames: configuration.hostNames, allowAnonymous: configuration.allowAnonymous,
            logger: logger, deviceInterceptor: { devices.interceptor(for: $0) })
        let tracker = RegistryConnectionTracker(registry: registry)
        let broker = MQTTBroker(
            configuration: configuration.brokerConfiguration, persistence: persistence,
            authenticator: authenticator, eventLoopGroup: eventLoopGroup, logger: logger,
            observer: BrokerObserverGroup([tracker, devices]), admission: Self.admission(configuration.ipFilter))
        tracker.watch(broker)
        devices.attach(broker)
        try await broker.start()
        return broker
    }

    /// Graceful stop, in dependency order: clients and listeners first (their disconnects are recorded),
    /// then the registry's last connection states, then storage, then the threads.
    private func stop(
        broker: MQTTBroker?, registry: DeviceRegistry, background: inout ThrowingTaskGroup<Void, any Error>,
        eventLog: EventLog, persistence: SQLiteBrokerPersistence, database: SQLiteDatabase,
        eventLoopGroup: MultiThreadedEventLoopGroup
    ) async {
        if let broker { await broker.shutdown() }
        background.cancelAll()
        while let result = await background.nextResult() {
            if case .failure(let error) = result, !(error is CancellationError) {
                logger.error("a background task failed: \(error)")
            }
        }
        await registry.flushConnectionStates()
        // No more appends arrive (clients are gone): commit what is queued and stop the writers.
        eventLog.close()
        do {
            try await persistence.close()
            try database.close()
        } catch {
            logger.error("closing the database failed: \(error)")
        }
        do {
            try await eventLoopGroup.shutdownGracefully()
        } catch {
            logger.error("stopping the event loops failed: \(error)")
        }
    }

    /// The IP filter as an accept-time check on client addresses (nil when there are no rules).
    static func admission(_ filter: IPFilter) -> (@Sendable (SocketAddress?) -> Bool)? {
        guard !filter.isEmpty else { return nil }
        return { address in
            guard let bytes = address.flatMap(IPAddressBytes.bytes(of:)) else { return filter.defaultAllow }
            return filter.allows(bytes)
        }
    }

    // MARK: - steps before the broker (testable without it)

    /// The shared server context for the TLS listeners, or nil when none is enabled.
    func prepareTLS() throws(HubServerError) -> NIOSSLContext? {
        guard configuration.needsTLS else { return nil }
        let material: TLSMaterial
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            material = try TLSMaterial.load(certificatePath: certificate, keyPath: key)
        } else {
            let outcome = try DevelopmentCA.ensure(
                files: DevelopmentCA.Files(dataDirectory: configuration.dataDirectory),
                hostName: configuration.hostName, aliases: configuration.hostAliases)
            if outcome.createdCA { logger.notice("created a development CA in \(outcome.files.directory)") }
            if let reason = outcome.issuedServerCertificate {
                logger.info("issued a development server certificate (\(reason))")
            }
            material = outcome.material
            let caPath = URL(fileURLWithPath: outcome.files.caCertificate).standardizedFileURL.path
            logger.notice("development CA: \(caPath) — trust it in clients")
        }
        for warning in material.warnings { logger.warning("\(warning)") }
        return try ServerTLS.makeContext(for: material)
    }

    /// Creates the data directory (0700) if needed; warns when an existing one is open to others.
    func prepareDataDirectory() throws(HubServerError) {
        let path = configuration.dataDirectory
        do {
            try SecureFile.createDirectory(path, mode: 0o700)
        } catch {
            throw HubServerError(.dataDirectory, "cannot create data-dir \(path): \(SecureFile.describe(error))")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw HubServerError(.dataDirectory, "cannot write to data-dir \(path): \(SecureFile.describe(SecureFile.currentErrno()))")
        }
        if let mode = SecureFile.mode(of: path), mode & 0o077 != 0 {
            logger.warning("data-dir \(path) is accessible by other users (mode \(String(mode, radix: 8)))")
        }
    }

    /// Opens `<data-dir>/meridian.sqlite` with every feature's migrations.
    func openDatabase() throws(HubServerError) -> SQLiteDatabase {
        let path = SQLiteDatabase.path(inDataDirectory: configuration.dataDirectory)
        do {
            return try SQLiteDatabase(
                path: path, durability: configuration.durability, migrations: Self.migrations,
                logger: logger)
        } catch {
            throw HubServerError(.storage, "cannot open the database: \(error.message)")
        }
    }

    /// The master key that seals stored keys: `master-key` / `MERIDIAN_MASTER_KEY`, else
    /// `<data-dir>/master.key` (created 0600 at first start; refused if others can read it).
    func masterKey() throws(HubServerError) -> MasterKey {
        do {
            if let bytes = configuration.masterKey { return try MasterKey(bytes: bytes) }
            return try MasterKey.loadOrCreate(dataDirectory: configuration.dataDirectory)
        } catch {
            throw HubServerError(.storage, "cannot use the master key: \(error.message)")
        }
    }

    /// The event log (the built-in events endpoint) in `<data-dir>/events`, recovered, with the hub's
    /// durability mode. Accepted device messages are acknowledged only once it has them.
    func openEventLog() throws(HubServerError) -> EventEndpoint {
        var settings = EventLog.Configuration()
        settings.durability = configuration.durability
        settings.partitionCount = configuration.eventPartitions
        settings.retentionAge = .seconds(configuration.eventRetentionHours * 3600)
        settings.retentionBytes = configuration.eventRetentionBytes > 0 ? configuration.eventRetentionBytes : nil
        settings.maxBatchDelay = .milliseconds(configuration.eventBatchDelayMs)
        settings.maxBatchRecords = configuration.eventBatchRecords
        settings.commitObserver = EventLogMetricsExporter.commitObserver()
        let log: EventLog
        do {
            log = try EventLog(directory: configuration.dataDirectory + "/events", configuration: settings, logger: logger)
        } catch {
            throw HubServerError(.storage, "cannot open the event log: \(error)")
        }
        do {
            return EventEndpoint(log: log, groups: try ConsumerGroups(log: log))
        } catch {
            log.close()
            throw HubServerError(.storage, "cannot open the event log's consumer groups: \(error)")
        }
    }

    /// The identity registry over the SQLite stores, bootstrapped (default policies, owner key).
    func openRegistry(_ database: SQLiteDatabase) async throws(HubServerError) -> DeviceRegistry {
        let sealer = MasterKeySealer(current: try masterKey())
        let registry = DeviceRegistry(
            store: SQLiteRegistryStore(database: database, sealer: sealer),
            policies: SQLiteAccessPolicyStore(database: database, sealer: sealer),
            certificates: SQLiteCertificateStore(database: database),
            users: SQLiteUserStore(database: database),
            logger: logger)
        do {
            try await registry.bootstrap(ownerKey: configuration.ownerKey)
        } catch {
            throw HubServerError(.storage, "cannot open the registry: \(error.message)")
        }
        return registry
    }

    /// Writes `<data-dir>/hub.json` for offline tools; a failure is only logged.
    private func recordHubInfo() {
        let info = HubInfo(hostName: configuration.hostName, httpsPort: configuration.httpsPort, httpPort: configuration.httpPort)
        do {
            try info.write(toDataDirectory: configuration.dataDirectory)
        } catch {
            logger.warning("cannot write \(HubInfo.fileName) in the data directory: \(error)")
        }
    }
}
