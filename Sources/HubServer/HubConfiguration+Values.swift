import Foundation
import HubCore
import HubStorage
import Logging
import MQTTCodec

extension HubConfiguration {
    /// Why a value was refused, as the end of a sentence ("must be an integer, got a string"). The
    /// caller prefixes where the value came from.
    struct ValueProblem: Error, Sendable {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// The largest packet MQTT can carry: 268,435,455 bytes of Remaining Length plus a 5-byte fixed header.
    static let largestMQTTPacket = 268_435_460

    /// Checks `value` for `key` and stores it. Relative paths are resolved against `base` when given
    /// (the config file's directory).
    mutating func set(_ key: Key, to value: ConfigValue, relativeTo base: String?) throws(ValueProblem) {
        switch key {
        case .config: configFile = try Self.path(value, base)
        case .dataDir: dataDirectory = try Self.path(value, base)
        case .bind: bind = try Self.nonEmptyString(value)
        case .plainBind: plainBind = try Self.nonEmptyString(value)
        case .mqttPort: mqttPort = try Self.integer(value, in: 0...65535)
        case .mqttsPort: mqttsPort = try Self.integer(value, in: 0...65535)
        case .httpPort: httpPort = try Self.integer(value, in: 0...65535)
        case .httpsPort: httpsPort = try Self.integer(value, in: 0...65535)
        case .tlsCert: tlsCertificatePath = try Self.path(value, base)
        case .tlsKey: tlsKeyPath = try Self.path(value, base)
        case .allowAnonymous: allowAnonymous = try Self.bool(value)
        case .hostName: hostName = try Self.nonEmptyString(value)
        case .logLevel:
            let name = try Self.nonEmptyString(value)
            guard let level = Logger.Level(rawValue: name) else {
                throw ValueProblem(
                    "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        case .durability:
            let name = try Self.nonEmptyString(value)
            guard let mode = DurabilityMode(rawValue: name) else {
                throw ValueProblem("must be one of \(DurabilityMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            durability = mode
        case .eventLoopThreads: eventLoopThreads = try Self.integer(value, in: 0...1024)
        case .hostAliases:
            hostAliases = try Self.stringList(value)
            for alias in hostAliases where !Self.isValidHostName(alias) {
                throw ValueProblem("must be DNS names or IP addresses")
            }
        case .ipFilter:
            var rules: [IPFilter.Rule] = []
            for text in try Self.stringList(value) {
                guard let rule = IPFilter.parseRule(text) else {
                    throw ValueProblem("must be rules like 'allow 10.0.0.0/8' or 'deny 0.0.0.0/0'")
                }
                rules.append(rule)
            }
            ipFilter = IPFilter(rules: rules)
        case .ownerKey:
            guard case .string(let text) = value, let key = try? SharedAccessKey(base64: text) else {
                throw ValueProblem("must be a base64 key of 16 to 64 bytes")
            }
            ownerKey = key
        case .masterKey:
            guard case .string(let text) = value, let bytes = Base64.decode(text), bytes.count == 32 else {
                throw ValueProblem("must be 32 bytes in base64")
            }
            masterKey = bytes
        case .eventPartitions: eventPartitions = try Self.integer(value, in: 1...32)
        case .eventRetentionHours: eventRetentionHours = try Self.integer(value, in: 1...168)
        case .eventRetentionBytes: eventRetentionBytes = Int64(try Self.integer(value, in: 0...Int.max))
        case .eventBatchDelayMs: eventBatchDelayMs = try Self.integer(value, in: 0...1000)
        case .eventBatchRecords: eventBatchRecords = try Self.integer(value, in: 1...65_536)
        case .timeseriesRetentionDays: timeseriesRetentionDays = try Self.integer(value, in: 1...3650)
        case .timeseriesWindowSeconds: timeseriesWindowSeconds = try Self.integer(value, in: 0...86_400)
        case .timeseriesRetentionRule:
            var rules: [TimeSeriesRetentionRule] = []
            for text in try Self.stringList(value) {
                guard let rule = TimeSeriesRetentionRule(text) else {
                    throw ValueProblem("must be rules like 'test-* * 2' (device glob, measure glob, days 1…3650)")
                }
                rules.append(rule)
            }
            timeseriesRetentionRules = rules
        case .timeseriesTagField:
            timeseriesTagFields = try Self.fieldNames(value)
        case .timeseriesIgnoreField:
            timeseriesIgnoredFields = try Self.fieldNames(value)
        case .timeseriesMaxStrings: timeseriesMaxStrings = try Self.integer(value, in: 1...10_000_000)
        case .connectRate: connectRate = try Self.integer(value, in: 0...1_000_000)
        case .registryRate: registryRate = try Self.integer(value, in: 0...10_000_000)
        case .deviceRate: deviceRate = try Self.integer(value, in: 0...100_000_000)
        case .maxConnections: limits.maximumConnections = try Self.integer(value, in: 1...Int.max)
        case .maxPacketSize: limits.maximumPacketSize = try Self.integer(value, in: 1...Self.largestMQTTPacket)
        case .maxUserProperties: limits.maximumUserProperties = try Self.integer(value, in: 1...Int.max)
        case .connectTimeout: limits.connectTimeoutSeconds = try Self.seconds(value)
        case .receiveMaximum: limits.receiveMaximum = UInt16(try Self.integer(value, in: 1...65535))
        case .topicAliasMaximum: limits.topicAliasMaximum = UInt16(try Self.integer(value, in: 0...65535))
        case .maximumQoS: limits.maximumQoS = MQTTQoS(rawValue: UInt8(try Self.integer(value, in: 0...2)))!
        case .maxSubscriptionsPerSession:
            limits.maximumSubscriptionsPerSession = try Self.integer(value, in: 1...Int.max)
        case .maxTopicLevels: limits.maximumTopicLevels = try Self.integer(value, in: 1...Int.max)
        case .maxQueuedMessages: limits.maximumQueuedMessages = try Self.integer(value, in: 1...Int.max)
        case .maxQueuedBytes: limits.maximumQueuedBytes = try Self.integer(value, in: 1...Int.max)
        case .maxSessionExpiry:
            limits.maximumSessionExpiryInterval = UInt32(try Self.integer(value, in: 0...Int(UInt32.max)))
        case .maxKeepAlive: limits.maximumKeepAlive = UInt16(try Self.integer(value, in: 1...65535))
        case .maxRetainedMessages: limits.maximumRetainedMessages = try Self.integer(value, in: 1...Int.max)
        case .persistenceFlushInterval: limits.persistenceFlushInterval = try Self.seconds(value)
        }
    }

    private static func integer(_ value: ConfigValue, in range: ClosedRange<Int>) throws(ValueProblem) -> Int {
        guard case .integer(let n) = value else {
            throw ValueProblem("must be an integer, got \(value.typeDescription)")
        }
        guard range.contains(n) else {
            if range.upperBound == Int.max {
                throw ValueProblem(range.lowerBound == 1 ? "must be positive, got \(n)" : "must be at least \(range.lowerBound), got \(n)")
            }
            throw ValueProblem("must be between \(range.lowerBound) and \(range.upperBound), got \(n)")
        }
        return n
    }

    /// A positive, finite number of seconds; integers are accepted.
    private static func seconds(_ value: ConfigValue) throws(ValueProblem) -> Double {
        let seconds: Double
        switch value {
        case .integer(let n): seconds = Double(n)
        case .double(let d): seconds = d
        default: throw ValueProblem("must be a number of seconds, got \(value.typeDescription)")
        }
        guard seconds.isFinite, seconds > 0 else {
            throw ValueProblem("must be a positive number of seconds, got \(seconds)")
        }
        return seconds
    }

    /// A list of strings; a single string counts as a list of one.
    private static func stringList(_ value: ConfigValue) throws(ValueProblem) -> [String] {
        switch value {
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw ValueProblem("must be a list of strings") }
                out.append(s)
            }
            return out
        default: throw ValueProblem("must be a list of strings, got \(value.typeDescription)")
        }
    }

    /// Field names: 1…256 bytes each, at most 64.
    private static func fieldNames(_ value: ConfigValue) throws(ValueProblem) -> [String] {
        let names = try stringList(value)
        guard names.count <= 64, names.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
            throw ValueProblem("must be up to 64 field names of 1…256 bytes")
        }
        return names
    }

    private static func bool(_ value: ConfigValue) throws(ValueProblem) -> Bool {
        guard case .bool(let b) = value else {
            throw ValueProblem("must be true or false, got \(value.typeDescription)")
        }
        return b
    }

    private static func nonEmptyString(_ value: ConfigValue) throws(ValueProblem) -> String {
        guard case .string(let s) = value else {
            throw ValueProblem("must be a string, got \(value.typeDescription)")
        }
        guard !s.isEmpty else { throw ValueProblem("must not be empty") }
        return s
    }

    private static func path(_ value: ConfigValue, _ base: String?) throws(ValueProblem) -> String {
        let path = try nonEmptyString(value)
        guard let base, !path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).path
    }
}
