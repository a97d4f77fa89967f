import HubCore
import HubStorage
import Logging
import NIOCore
import MQTTBroker

/// Every setting of `meridian serve`, with its default: **this type is the settings reference**.
///
/// Each setting has one kebab-case name used both as a command-line flag (`--mqtt-port 1884`) and as a
/// key in the config file (`mqtt-port = 1884` in TOML, `mqtt-port: 1884` in YAML). Broker limits sit
/// in a `[limits]` table (TOML) or a `limits:` map (YAML) in the file, and are plain flags on the
/// command line (`--max-connections 100`). Precedence: built-in default < config file < flag.
/// The names are an interface other tools rely on; `HubConfiguration.Key` lists them.
///
/// ```toml
/// data-dir = "/var/lib/meridian"
/// mqtt-port = 0            # no plain-text MQTT
/// allow-anonymous = false
///
/// [limits]
/// max-connections = 20000
/// connect-timeout = 2.5
/// ```
///
/// Relative paths in a config file are relative to the file's directory; relative paths in flags are
/// relative to the working directory.
/// One `timeseries-retention-rule`: raw points of the matching series are kept `days` days.
public struct TimeSeriesRetentionRule: Sendable, Hashable {
    public var devicePattern: String
    public var measurePattern: String
    public var days: Int

    /// Parses `DEVICE-GLOB MEASURE-GLOB DAYS` (days 1…3650); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let days = Int(parts[2]), (1...3650).contains(days),
            parts[0].utf8.count <= 128, parts[1].utf8.count <= 128
        else { return nil }
        devicePattern = String(parts[0])
        measurePattern = String(parts[1])
        self.days = days
    }
}

public struct HubConfiguration: Sendable, Hashable {
    /// `data-dir`: where the hub keeps its state: `meridian.sqlite` (sessions, retained messages …) and
    /// `tls/` (the development CA). Created with mode 0700 if missing. Default `./meridian-data`.
    public var dataDirectory: String = "./meridian-data"

    /// `bind`: the address the TLS listeners (`mqtts`, `https`) listen on. Default `0.0.0.0` (all IPv4
    /// interfaces); `::` for all IPv6 (and, on Linux, IPv4) interfaces.
    public var bind: String = "0.0.0.0"

    /// `plain-bind`: the address the plain-text listeners (`mqtt`, `http`) listen on. Default
    /// `127.0.0.1`, so that nothing unencrypted is reachable from other machines unless asked for.
    public var plainBind: String = "127.0.0.1"

    /// `mqtt-port`: MQTT over plain TCP, on `plain-bind`. Default 1883; 0 disables the listener.
    public var mqttPort: Int = 1883

    /// `mqtts-port`: MQTT over TLS, on `bind`. Default 8883; 0 disables the listener.
    public var mqttsPort: Int = 8883

    /// `http-port`: plain HTTP on `plain-bind`, serving MQTT over WebSockets at `/mqtt`. Default 8080;
    /// 0 disables the listener.
    public var httpPort: Int = 8080

    /// `https-port`: HTTPS on `bind`, serving MQTT over WebSockets at `/mqtt` and at
    /// `/$iothub/websocket` (the Azure IoT SDKs' path). Default 8443; 0 disables the listener.
    public var httpsPort: Int = 8443

    /// `tls-cert`: PEM file with the server certificate chain, leaf first. Give both `tls-cert` and
    /// `tls-key`, or neither: without them the hub issues its own certificate from a development CA in
    /// `<data-dir>/tls/`. Default: none.
    public var tlsCertificatePath: String? = nil

    /// `tls-key`: PEM file with the private key of `tls-cert` (unencrypted PKCS#8, SEC1 or PKCS#1).
    /// Default: none.
    public var tlsKeyPath: String? = nil

    /// `allow-anonymous`: accept MQTT clients that present no credentials. For development only.
    /// Default `false`.
    public var allowAnonymous: Bool = false

    /// `host-name`: the hub's name as clients address it. Put in the development server certificate's
    /// subject alternative names (with `localhost`, `127.0.0.1` and `::1`) and, later, in SAS token
    /// resource URIs. Default `localhost`.
    public var hostName: String = "localhost"

    /// `log-level`: `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`. Logs go to
    /// stderr. Default `info`.
    public var logLevel: Logger.Level = .info

    /// `durability`: what a committed (acknowledged) write survives. `process` (default): a killed or
    /// crashed process (SQLite WAL, `synchronous=NORMAL`). `power`: power loss too, if the disk honours
    /// fsync (`synchronous=FULL`), at the cost of a sync per commit.
    public var durability: DurabilityMode = .process

    /// `event-partitions`: partitions of the event log (a device's messages all go to one, so their order
    /// holds). Fixed when the log is created; an existing log keeps the count recorded on disk. Default 4.
    public var eventPartitions = 4

    /// `event-retention-hours`: how long the event log keeps events (1 … 168, Azure's 1 to 7 days).
    /// Default 24.
    public var eventRetentionHours = 24

    /// `event-retention-bytes`: the event log's size (all partitions) beyond which its oldest segments are
    /// deleted, whatever their age. 0 (default) = no size limit.
    public var eventRetentionBytes: Int64 = 0

    /// `event-batch-delay-ms`: the longest a partition waits to fill a group commit (one write, and with
    /// `durability power` one fsync, per batch; PUBACKs wait for it). 0 commits at once. Default 5.
    public var eventBatchDelayMs = 5

    /// `event-batch-records`: the most messages in one group commit. Default 512.
    public var eventBatchRecords = 512

    /// `timeseries-retention-days`: how long the time-series store keeps raw points (1 … 3650). Minute
    /// roll-ups are kept three times, hour roll-ups 24 times as long. Default 30.
    public var timeseriesRetentionDays = 30

    /// `timeseries-window-seconds`: how far behind a series' newest point a point may arrive and still be
    /// stored (older ones are counted as late, never silently dropped). Default 300.
    public var timeseriesWindowSeconds = 300

    /// `timeseries-retention-rule`: raw retention in days for the series whose device id and measure name
    /// match the globs (`*` any run, `?` one character), tried in order before `timeseries-retention-days`;
    /// roll-ups are kept 3× and 24× as long, as by default. Written `DEVICE-GLOB MEASURE-GLOB DAYS`.
    public var timeseriesRetentionRules: [TimeSeriesRetentionRule] = []

    /// `timeseries-tag-field`: top-level string fields of device messages whose values tag every series of
    /// the message (`"motor": "front"` → `motor=front`) instead of being measures. Default: none.
    public var timeseriesTagFields: [String] = []

    /// `timeseries-ignore-field`: top-level fields of device messages that are never measures (identifiers
    /// whose every value is new would fill the string dictionary). Giving any replaces this default.
    public var timeseriesIgnoredFields = ["deviceId", "deliveryId", "messageId", "correlationId", "sensorType"]

    /// `timeseries-max-strings`: distinct string values the time-series store's string dictionary keeps;
    /// a new string beyond is refused and counted. Default 100,000.
    public var timeseriesMaxStrings = 100_000

    /// `host-aliases`: further names clients may use for the hub. SAS tokens naming any of them (or
    /// `host-name`) are accepted, and the development server certificate covers them. Default: none.
    public var hostAliases: [String] = []

    /// Every name of the hub: `host-name` first, then the aliases.
    public var hostNames: [String] { [hostName] + hostAliases.filter { $0 != hostName } }

    /// `ip-filter`: ordered `allow CIDR` / `deny CIDR` rules applied to every listener at accept time; the
    /// first rule containing the client's address decides; unmatched clients are allowed. Default: none.
    public var ipFilter = IPFilter()

    /// `owner-key` (or env `MERIDIAN_OWNER_KEY`): the iothubowner policy's primary key, instead of a
    /// generated one, for scripted set-ups. Never logged. Default: generated at first start.
    public var ownerKey: SharedAccessKey?

    /// `master-key` (or env `MERIDIAN_MASTER_KEY`): 32 bytes (base64) that encrypt stored device and policy
    /// keys. Default: `<data-dir>/master.key`, created with mode 0600 at first start.
    public var masterKey: [UInt8]?

    /// `connect-rate` (limits): new MQTT connections accepted per second hub-wide (token bucket with a
    /// burst of 5 s worth); over it, CONNACK 0x9F (3.1.1: 0x03). 0 = unlimited. Default 2,000.
    public var connectRate = 2000

    /// `registry-rate` (limits): registry REST operations per minute hub-wide; over it, HTTP 429 with
    /// Retry-After. 0 = unlimited. Default 6,000.
    public var registryRate = 6000

    /// `device-rate` (limits): device-side HTTPS requests per minute hub-wide (send event, receive,
    /// complete, abandon, reject); over it, HTTP 429. 0 = unlimited. Default 60,000.
    public var deviceRate = 60_000

    /// `event-loop-threads`: threads running network I/O and MQTT routing (SwiftNIO event loops).
    /// 0 (default) = one per CPU core. One thread avoids cross-thread hand-offs (lowest latency at light
    /// load); one per core gives the highest throughput.
    public var eventLoopThreads: Int = 0

    /// The number of event-loop threads to start.
    public var effectiveEventLoopThreads: Int { eventLoopThreads > 0 ? eventLoopThreads : System.coreCount }

    /// `config`: the TOML (`.toml`) or YAML (`.yaml`, `.yml`) file the other settings were read from, if
    /// any. A flag only. Default: none.
    public var configFile: String? = nil

    /// The `[limits]` table: broker limits, mapped onto `BrokerConfiguration` (its doc comments say
    /// what each does). Key → field, with defaults:
    ///
    /// | key | field | default |
    /// | --- | --- | --- |
    /// | `max-connections` | `maximumConnections` | 50,000 |
    /// | `max-packet-size` | `maximumPacketSize` (bytes) | the codec's default |
    /// | `max-user-properties` | `maximumUserProperties` | 64 |
    /// | `connect-timeout` | `connectTimeoutSeconds` (fractional ok) | 10 |
    /// | `receive-maximum` | `receiveMaximum` (1 … 65,535) | 100 |
    /// | `topic-alias-maximum` | `topicAliasMaximum` (0 … 65,535; 0 = no aliases) | 10 |
    /// | `maximum-qos` | `maximumQoS` (0 … 2) | 2 |
    /// | `max-subscriptions-per-session` | `maximumSubscriptionsPerSession` | 100 |
    /// | `max-topic-levels` | `maximumTopicLevels` | the codec's default |
    /// | `max-queued-messages` | `maximumQueuedMessages` | 1,000 |
    /// | `max-queued-bytes` | `maximumQueuedBytes` | 10 MiB |
    /// | `max-session-expiry` | `maximumSessionExpiryInterval` (s; 0 = no session outlives its connection) | 7 days |
    /// | `max-keep-alive` | `maximumKeepAlive` (s, 1 … 65,535) | 3,600 |
    /// | `max-retained-messages` | `maximumRetainedMessages` | 1,000,000 |
    /// | `persistence-flush-interval` | `persistenceFlushInterval` (s, fractional ok) | 1 |
    ///
    /// All must be positive except where 0 is given a meaning above. `allowAnonymous` of the broker
    /// comes from `allow-anonymous`, not from this table.
    public var limits: BrokerConfiguration = BrokerConfiguration()

    /// The defaults.
    public init() {}

    /// What the broker is built with: the limits plus `allow-anonymous` and `connect-rate`.
    public var brokerConfiguration: BrokerConfiguration {
        var configuration = limits
        configuration.allowAnonymous = allowAnonymous
        configuration.connectRatePerSecond = connectRate
        // Azure module identities connect as `{device}/{module}`; HubMQTTAuthenticator admits that form
        // for registered modules only.
        configuration.allowsModuleClientIDs = true
        return configuration
    }

    /// Whether a TLS listener (`mqtts` or `https`) is enabled, i.e. whether TLS material is needed.
    public var needsTLS: Bool { mqttsPort != 0 || httpsPort != 0 }
}
