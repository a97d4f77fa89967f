import ArgumentParser
import Foundation
import HubServer
import Logging

/// `meridian serve`: runs the hub until SIGTERM or SIGINT.
///
/// Every option is a `HubConfiguration` setting of the same name (see `HubConfiguration` for the full
/// reference); help texts and defaults come from there. Exit status: 0 after a graceful shutdown,
/// 64 for a malformed flag (the argument parser's usage error), 78 (EX_CONFIG) for an invalid config
/// file or unusable TLS files, 75 (EX_TEMPFAIL) when another process uses the data directory, 1 for anything else that stops the hub (a port in use, storage).
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the hub: MQTT, MQTT over TLS and MQTT over WebSockets listeners.",
        discussion: """
            Settings come from built-in defaults, then the --config file (TOML or YAML, same names as \
            the options; broker limits in a [limits] table), then the options given here. A port of 0 \
            disables that listener.
            """
    )

    typealias Key = HubConfiguration.Key

    @Option(name: .customLong(Key.config.rawValue), help: help(.config)) var config: String?
    @Option(name: .customLong(Key.dataDir.rawValue), help: help(.dataDir)) var dataDir: String?
    @Option(name: .customLong(Key.bind.rawValue), help: help(.bind)) var bind: String?
    @Option(name: .customLong(Key.plainBind.rawValue), help: help(.plainBind)) var plainBind: String?
    @Option(name: .customLong(Key.mqttPort.rawValue), help: help(.mqttPort)) var mqttPort: Int?
    @Option(name: .customLong(Key.mqttsPort.rawValue), help: help(.mqttsPort)) var mqttsPort: Int?
    @Option(name: .customLong(Key.httpPort.rawValue), help: help(.httpPort)) var httpPort: Int?
    @Option(name: .customLong(Key.httpsPort.rawValue), help: help(.httpsPort)) var httpsPort: Int?
    @Option(name: .customLong(Key.tlsCert.rawValue), help: help(.tlsCert)) var tlsCert: String?
    @Option(name: .customLong(Key.tlsKey.rawValue), help: help(.tlsKey)) var tlsKey: String?
    @Flag(name: .customLong(Key.allowAnonymous.rawValue), inversion: .prefixedNo, help: flagHelp(.allowAnonymous))
    var allowAnonymous: Bool?
    @Option(name: .customLong(Key.hostName.rawValue), help: help(.hostName)) var hostName: String?
    @Option(name: .customLong(Key.logLevel.rawValue), help: help(.logLevel)) var logLevel: String?
    @Option(name: .customLong(Key.durability.rawValue), help: help(.durability)) var durability: String?
    @Option(name: .customLong(Key.eventLoopThreads.rawValue), help: help(.eventLoopThreads)) var eventLoopThreads: Int?
    @Option(name: .customLong(Key.hostAliases.rawValue), help: help(.hostAliases)) var hostAliases: [String] = []
    @Option(name: .customLong(Key.ipFilter.rawValue), help: help(.ipFilter)) var ipFilter: [String] = []
    @Option(name: .customLong(Key.ownerKey.rawValue), help: help(.ownerKey)) var ownerKey: String?
    @Option(name: .customLong(Key.masterKey.rawValue), help: help(.masterKey)) var masterKey: String?
    @Option(name: .customLong(Key.eventPartitions.rawValue), help: help(.eventPartitions)) var eventPartitions: Int?
    @Option(name: .customLong(Key.eventRetentionHours.rawValue), help: help(.eventRetentionHours)) var eventRetentionHours: Int?
    @Option(name: .customLong(Key.eventRetentionBytes.rawValue), help: help(.eventRetentionBytes)) var eventRetentionBytes: Int?
    @Option(name: .customLong(Key.timeseriesRetentionDays.rawValue), help: help(.timeseriesRetentionDays)) var timeseriesRetentionDays: Int?
    @Option(name: .customLong(Key.timeseriesWindowSeconds.rawValue), help: help(.timeseriesWindowSeconds)) var timeseriesWindowSeconds: Int?
    @Option(name: .customLong(Key.timeseriesRetentionRule.rawValue), help: help(.timeseriesRetentionRule)) var timeseriesRetentionRule: [String] = []
    @Option(name: .customLong(Key.timeseriesTagField.rawValue), help: help(.timeseriesTagField)) var timeseriesTagField: [String] = []
    @Option(name: .customLong(Key.timeseriesIgnoreField.rawValue), help: help(.timeseriesIgnoreField)) var timeseriesIgnoreField: [String] = []
    @Option(name: .customLong(Key.timeseriesMaxStrings.rawValue), help: help(.timeseriesMaxStrings)) var timeseriesMaxStrings: Int?
    @Option(name: .customLong(Key.eventBatchDelayMs.rawValue), help: help(.eventBatchDelayMs)) var eventBatchDelayMs: Int?
    @Option(name: .customLong(Key.eventBatchRecords.rawValue), help: help(.eventBatchRecords)) var eventBatchRecords: Int?
    @Option(name: .customLong(Key.connectRate.rawValue), help: help(.connectRate)) var connectRate: Int?
    @Option(name: .customLong(Key.registryRate.rawValue), help: help(.registryRate)) var registryRate: Int?
    @Option(name: .customLong(Key.deviceRate.rawValue), help: help(.deviceRate)) var deviceRate: Int?

    @Option(name: .customLong(Key.maxConnections.rawValue), help: help(.maxConnections)) var maxConnections: Int?
    @Option(name: .customLong(Key.maxPacketSize.rawValue), help: help(.maxPacketSize)) var maxPacketSize: Int?
    @Option(name: .customLong(Key.maxUserProperties.rawValue), help: help(.maxUserProperties))
    var maxUserProperties: Int?
    @Option(name: .customLong(Key.connectTimeout.rawValue), help: help(.connectTimeout)) var connectTimeout: Double?
    @Option(name: .customLong(Key.receiveMaximum.rawValue), help: help(.receiveMaximum)) var receiveMaximum: Int?
    @Option(name: .customLong(Key.topicAliasMaximum.rawValue), help: help(.topicAliasMaximum))
    var topicAliasMaximum: Int?
    @Option(name: .customLong(Key.maximumQoS.rawValue), help: help(.maximumQoS)) var maximumQoS: Int?
    @Option(name: .customLong(Key.maxSubscriptionsPerSession.rawValue), help: help(.maxSubscriptionsPerSession))
    var maxSubscriptionsPerSession: Int?
    @Option(name: .customLong(Key.maxTopicLevels.rawValue), help: help(.maxTopicLevels)) var maxTopicLevels: Int?
    @Option(name: .customLong(Key.maxQueuedMessages.rawValue), help: help(.maxQueuedMessages))
    var maxQueuedMessages: Int?
    @Option(name: .customLong(Key.maxQueuedBytes.rawValue), help: help(.maxQueuedBytes)) var maxQueuedBytes: Int?
    @Option(name: .customLong(Key.maxSessionExpiry.rawValue), help: help(.maxSessionExpiry)) var maxSessionExpiry: Int?
    @Option(name: .customLong(Key.maxKeepAlive.rawValue), help: help(.maxKeepAlive)) var maxKeepAlive: Int?
    @Option(name: .customLong(Key.maxRetainedMessages.rawValue), help: help(.maxRetainedMessages))
    var maxRetainedMessages: Int?
    @Option(name: .customLong(Key.persistenceFlushInterval.rawValue), help: help(.persistenceFlushInterval))
    var persistenceFlushInterval: Double?

    public init() {}

    private static func help(_ key: Key) -> ArgumentHelp {
        ArgumentHelp(key.help, valueName: key.valueName)
    }

    private static func flagHelp(_ key: Key) -> ArgumentHelp {
        ArgumentHelp(key.help)
    }

    /// The options that were given, as settings.
    public var flags: [HubConfiguration.Flag] {
        var flags: [HubConfiguration.Flag] = []
        func add(_ key: Key, _ value: String?) { if let value { flags.append(.init(key, .string(value))) } }
        func add(_ key: Key, _ value: Int?) { if let value { flags.append(.init(key, .integer(value))) } }
        func add(_ key: Key, _ value: Double?) { if let value { flags.append(.init(key, .double(value))) } }
        func add(_ key: Key, _ value: Bool?) { if let value { flags.append(.init(key, .bool(value))) } }
        add(.config, config)
        add(.dataDir, dataDir)
        add(.bind, bind)
        add(.plainBind, plainBind)
        add(.mqttPort, mqttPort)
        add(.mqttsPort, mqttsPort)
        add(.httpPort, httpPort)
        add(.httpsPort, httpsPort)
        add(.tlsCert, tlsCert)
        add(.tlsKey, tlsKey)
        add(.allowAnonymous, allowAnonymous)
        add(.hostName, hostName)
        add(.logLevel, logLevel)
        add(.durability, durability)
        add(.eventLoopThreads, eventLoopThreads)
        if !hostAliases.isEmpty { flags.append(.init(.hostAliases, .array(hostAliases.map { .string($0) }))) }
        if !ipFilter.isEmpty { flags.append(.init(.ipFilter, .array(ipFilter.map { .string($0) }))) }
        if !timeseriesRetentionRule.isEmpty {
            flags.append(.init(.timeseriesRetentionRule, .array(timeseriesRetentionRule.map { .string($0) })))
        }
        if !timeseriesTagField.isEmpty { flags.append(.init(.timeseriesTagField, .array(timeseriesTagField.map { .string($0) }))) }
        if !timeseriesIgnoreField.isEmpty { flags.append(.init(.timeseriesIgnoreField, .array(timeseriesIgnoreField.map { .string($0) }))) }
        add(.timeseriesMaxStrings, timeseriesMaxStrings)
        let environment = ProcessInfo.processInfo.environment
        add(.ownerKey, ownerKey ?? environment["MERIDIAN_OWNER_KEY"])
        add(.masterKey, masterKey ?? environment["MERIDIAN_MASTER_KEY"])
        add(.eventPartitions, eventPartitions)
        add(.eventRetentionHours, eventRetentionHours)
        add(.eventRetentionBytes, eventRetentionBytes)
        add(.timeseriesRetentionDays, timeseriesRetentionDays)
        add(.timeseriesWindowSeconds, timeseriesWindowSeconds)
        add(.eventBatchDelayMs, eventBatchDelayMs)
        add(.eventBatchRecords, eventBatchRecords)
        add(.connectRate, connectRate)
        add(.registryRate, registryRate)
        add(.deviceRate, deviceRate)
        add(.maxConnections, maxConnections)
        add(.maxPacketSize, maxPacketSize)
        add(.maxUserProperties, maxUserProperties)
        add(.connectTimeout, connectTimeout)
        add(.receiveMaximum, receiveMaximum)
        add(.topicAliasMaximum, topicAliasMaximum)
        add(.maximumQoS, maximumQoS)
        add(.maxSubscriptionsPerSession, maxSubscriptionsPerSession)
        add(.maxTopicLevels, maxTopicLevels)
        add(.maxQueuedMessages, maxQueuedMessages)
        add(.maxQueuedBytes, maxQueuedBytes)
        add(.maxSessionExpiry, maxSessionExpiry)
        add(.maxKeepAlive, maxKeepAlive)
        add(.maxRetainedMessages, maxRetainedMessages)
        add(.persistenceFlushInterval, persistenceFlushInterval)
        return flags
    }

    /// Checks each option's value on its own (ranges, names) so that a bad one is a usage error.
    /// The combination with the config file is checked in `resolveConfiguration()`.
    public func validate() throws {
        var scratch = HubConfiguration()
        for flag in flags {
            do {
                try scratch.applyFlag(flag)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    /// Defaults, then the config file, then the options, checked together.
    public func resolveConfiguration() throws(HubServerError) -> HubConfiguration {
        try HubConfiguration.resolve(flags: flags)
    }

    public func run() async throws {
        let configuration: HubConfiguration
        do {
            configuration = try resolveConfiguration()
        } catch {
            throw Self.fail(error)
        }
        let logger = Self.bootstrapLogging(configuration.logLevel)
        do {
            try await MeridianServer.run(configuration: configuration, logger: logger)
        } catch let error as HubServerError {
            throw Self.fail(error)
        } catch {
            throw Self.fail(HubServerError(.storage, "stopped: \(error)"))
        }
    }

    /// Logs to standard error at `level`; returns the hub's logger.
    static func bootstrapLogging(_ level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "meridian")
        logger.logLevel = level
        return logger
    }

    /// Prints `meridian: <message>` on stderr and returns the exit code to throw.
    static func fail(_ error: HubServerError) -> ExitCode {
        FileHandle.standardError.write(Data("meridian: \(error.message)\n".utf8))
        return exitCode(for: error)
    }

    /// 78 (EX_CONFIG) for configuration and TLS files, 75 (EX_TEMPFAIL: try again later) when another
    /// process holds the data directory's lock, 1 otherwise.
    public static func exitCode(for error: HubServerError) -> ExitCode {
        switch error.code {
        case .invalidConfiguration, .tlsMaterial: ExitCode(78)
        case .dataDirectoryInUse: ExitCode(75)
        default: .failure
        }
    }
}
