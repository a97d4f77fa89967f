import HubStorage
import Logging
import MQTTCodec

extension HubConfiguration {
    /// The name of every setting: the flag is `--<rawValue>`, the config-file key is `<rawValue>`
    /// (limits inside `[limits]` / `limits:`). These names are a public interface; never rename one.
    public enum Key: String, Sendable, Hashable, CaseIterable {
        case config
        case dataDir = "data-dir"
        case bind
        case plainBind = "plain-bind"
        case mqttPort = "mqtt-port"
        case mqttsPort = "mqtts-port"
        case httpPort = "http-port"
        case httpsPort = "https-port"
        case tlsCert = "tls-cert"
        case tlsKey = "tls-key"
        case allowAnonymous = "allow-anonymous"
        case hostName = "host-name"
        case logLevel = "log-level"
        case durability
        case eventLoopThreads = "event-loop-threads"
        case hostAliases = "host-aliases"
        case ipFilter = "ip-filter"
        case ownerKey = "owner-key"
        case masterKey = "master-key"
        case eventPartitions = "event-partitions"
        case eventRetentionHours = "event-retention-hours"
        case eventRetentionBytes = "event-retention-bytes"
        case eventBatchDelayMs = "event-batch-delay-ms"
        case eventBatchRecords = "event-batch-records"
        case timeseriesRetentionDays = "timeseries-retention-days"
        case timeseriesWindowSeconds = "timeseries-window-seconds"
        case timeseriesRetentionRule = "timeseries-retention-rule"
        case timeseriesTagField = "timeseries-tag-field"
        case timeseriesIgnoreField = "timeseries-ignore-field"
        case timeseriesMaxStrings = "timeseries-max-strings"
        // [limits]
        case maxConnections = "max-connections"
        case maxPacketSize = "max-packet-size"
        case maxUserProperties = "max-user-properties"
        case connectTimeout = "connect-timeout"
        case receiveMaximum = "receive-maximum"
        case topicAliasMaximum = "topic-alias-maximum"
        case maximumQoS = "maximum-qos"
        case maxSubscriptionsPerSession = "max-subscriptions-per-session"
        case maxTopicLevels = "max-topic-levels"
        case maxQueuedMessages = "max-queued-messages"
        case maxQueuedBytes = "max-queued-bytes"
        case maxSessionExpiry = "max-session-expiry"
        case maxKeepAlive = "max-keep-alive"
        case maxRetainedMessages = "max-retained-messages"
        case persistenceFlushInterval = "persistence-flush-interval"
        case connectRate = "connect-rate"
        case registryRate = "registry-rate"
        case deviceRate = "device-rate"

        /// Whether the key lives in the `[limits]` table of a config file.
        public var isLimit: Bool {
            switch self {
            case .config, .dataDir, .bind, .plainBind, .mqttPort, .mqttsPort, .httpPort, .httpsPort, .tlsCert,
                .tlsKey, .allowAnonymous, .hostName, .logLevel, .durability, .eventLoopThreads, .hostAliases, .ipFilter,
                .ownerKey, .masterKey, .eventPartitions, .eventRetentionHours, .eventRetentionBytes, .eventBatchDelayMs,
                .eventBatchRecords, .timeseriesRetentionDays, .timeseriesWindowSeconds,
                .timeseriesRetentionRule, .timeseriesTagField, .timeseriesIgnoreField, .timeseriesMaxStrings:
                false
            default:
                true
            }
        }

        /// Whether the key may appear in a config file (`config` itself may not).
        public var isFileKey: Bool { self != .config }

        /// Whether the value is a file-system path (resolved against the config file's directory).
        var isPath: Bool { self == .dataDir || self == .tlsCert || self == .tlsKey }

        /// One line for `--help`, ending with the default.
        public var help: String {
            let d = HubConfiguration()
            let l = d.limits
            switch self {
            case .config: return "TOML (.toml) or YAML (.yaml, .yml) file with these settings; flags win over it."
            case .dataDir: return "Directory for the database and the development CA (default: \(d.dataDirectory))."
            case .bind: return "Address of the TLS listeners, mqtts and https (default: \(d.bind))."
            case .plainBind: return "Address of the plain-text listeners, mqtt and http (default: \(d.plainBind))."
            case .mqttPort: return "Plain MQTT port on plain-bind; 0 disables (default: \(d.mqttPort))."
            case .mqttsPort: return "MQTT over TLS port on bind; 0 disables (default: \(d.mqttsPort))."
            case .httpPort:
                return "HTTP port on plain-bind, MQTT over WebSockets at /mqtt; 0 disables (default: \(d.httpPort))."
            case .httpsPort:
                return
                    "HTTPS port on bind, WebSockets at /mqtt and /$iothub/websocket; 0 disables (default: \(d.httpsPort))."
            case .tlsCert: return "PEM certificate chain; with tls-key, or neither for a development CA (default: none)."
            case .tlsKey: return "PEM private key of tls-cert (default: none)."
            case .allowAnonymous: return "Accept MQTT clients without credentials (default: \(d.allowAnonymous))."
            case .hostName: return "The hub's host name, put in the development certificate (default: \(d.hostName))."
            case .logLevel:
                return "trace, debug, info, notice, warning, error or critical (default: \(d.logLevel.rawValue))."
            case .durability:
                return "process (survives kill -9) or power (survives power loss) (default: \(d.durability.rawValue))."
            case .eventPartitions:
                return "Event log partitions, 1…32, fixed when the log is created (an existing log keeps its count) (default: \(d.eventPartitions))."
            case .eventRetentionHours:
                return "Hours the event log keeps events, 1…168 (default: \(d.eventRetentionHours))."
            case .eventRetentionBytes:
                return "Event log size (bytes, all partitions) beyond which the oldest segments go; 0 = no size limit (default: 0)."
            case .eventBatchDelayMs:
                return "Longest wait, in ms, to fill an event log group commit, 0…1000 (default: \(d.eventBatchDelayMs))."
            case .eventBatchRecords:
                return "Most messages in one event log group commit, 1…65,536 (default: \(d.eventBatchRecords))."
            case .timeseriesRetentionDays:
                return "Days the time-series store keeps raw points, 1…3650; minute roll-ups are kept 3×, hour roll-ups 24× as long (default: \(d.timeseriesRetentionDays))."
            case .timeseriesWindowSeconds:
                return "How far behind a series' newest point a late point may arrive and still be stored, 0…86,400 s (default: \(d.timeseriesWindowSeconds))."
            case .timeseriesRetentionRule:
                return "Raw retention for some series, 'DEVICE-GLOB MEASURE-GLOB DAYS' (e.g. 'test-* * 2'), first match wins; repeatable (default: none)."
            case .timeseriesTagField:
                return "A top-level string field of device messages whose value tags the message's series instead of being a measure; repeatable (default: none)."
            case .timeseriesIgnoreField:
                return "A top-level field of device messages that is never a measure; repeatable, replaces the default list (default: \(d.timeseriesIgnoredFields.joined(separator: ", ")))."
            case .timeseriesMaxStrings:
                return "Distinct string values the time-series store keeps, 1…10,000,000; new ones beyond are refused and counted (default: \(d.timeseriesMaxStrings))."
            case .hostAliases:
                return "More names of the hub, accepted in SAS tokens and put in the development certificate; repeatable (default: none)."
            case .ipFilter:
                return "Client address rule, 'allow CIDR' or 'deny CIDR', first match wins, others allowed; repeatable (default: none)."
            case .ownerKey:
                return "Base64 primary key for the iothubowner policy, for scripted set-ups; also MERIDIAN_OWNER_KEY (default: generated)."
            case .masterKey:
                return "Base64 key that encrypts stored device keys; also MERIDIAN_MASTER_KEY (default: <data-dir>/master.key)."
            case .eventLoopThreads:
                return "Network threads; 0 = one per CPU core (default: \(d.eventLoopThreads))."
            case .maxConnections: return "Open connections at most (default: \(l.maximumConnections))."
            case .maxPacketSize: return "Largest packet accepted, in bytes (default: \(l.maximumPacketSize))."
            case .maxUserProperties: return "User properties per packet at most (default: \(l.maximumUserProperties))."
            case .connectTimeout:
                return "Seconds a client has to send CONNECT (default: \(Self.format(l.connectTimeoutSeconds)))."
            case .receiveMaximum:
                return "Unacknowledged inbound QoS 1/2 messages per client, 1-65535 (default: \(l.receiveMaximum))."
            case .topicAliasMaximum:
                return "Topic aliases accepted per client, 0 disables (default: \(l.topicAliasMaximum))."
            case .maximumQoS: return "Highest QoS supported, 0-2 (default: \(l.maximumQoS.rawValue))."
            case .maxSubscriptionsPerSession:
                return "Subscriptions per session at most (default: \(l.maximumSubscriptionsPerSession))."
            case .maxTopicLevels: return "Levels per topic name or filter at most (default: \(l.maximumTopicLevels))."
            case .maxQueuedMessages:
                return "Messages queued per session at most (default: \(l.maximumQueuedMessages))."
            case .maxQueuedBytes: return "Bytes queued per session at most (default: \(l.maximumQueuedBytes))."
            case .maxSessionExpiry:
                return "Longest session expiry in seconds, 0 = none (default: \(l.maximumSessionExpiryInterval))."
            case .maxKeepAlive: return "Longest keep-alive in seconds, 1-65535 (default: \(l.maximumKeepAlive))."
            case .maxRetainedMessages:
                return "Retained messages kept at most (default: \(l.maximumRetainedMessages))."
            case .persistenceFlushInterval:
                return "Seconds between persistence flushes (default: \(Self.format(l.persistenceFlushInterval)))."
            case .connectRate:
                return "New MQTT connections per second, hub-wide (bursts of 5 s allowed); 0 = unlimited (default: \(d.connectRate))."
            case .registryRate:
                return "Registry REST operations per minute, hub-wide; 0 = unlimited (default: \(d.registryRate))."
            case .deviceRate:
                return "Device HTTPS requests (send event, receive, settle) per minute, hub-wide; 0 = unlimited (default: \(d.deviceRate))."
            }
        }

        /// A short name for the value in `--help` (`<port>`, `<path>` …).
        public var valueName: String {
            switch self {
            case .config, .dataDir, .tlsCert, .tlsKey: "path"
            case .bind, .plainBind: "address"
            case .mqttPort, .mqttsPort, .httpPort, .httpsPort: "port"
            case .hostName: "name"
            case .hostAliases: "name"
            case .ipFilter, .timeseriesRetentionRule: "rule"
            case .timeseriesTagField, .timeseriesIgnoreField: "field"
            case .ownerKey, .masterKey: "base64"
            case .logLevel: "level"
            case .durability: "mode"
            case .allowAnonymous: "bool"
            case .connectTimeout, .maxSessionExpiry, .maxKeepAlive, .persistenceFlushInterval: "seconds"
            case .maxPacketSize, .maxQueuedBytes, .eventRetentionBytes: "bytes"
            case .eventRetentionHours: "hours"
            case .timeseriesRetentionDays: "days"
            case .timeseriesWindowSeconds: "seconds"
            case .eventBatchDelayMs: "ms"
            case .maximumQoS: "qos"
            default: "n"
            }
        }

        private static func format(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }
}
