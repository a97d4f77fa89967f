import HubCore

/// The hub's message routing, as Azure IoT Hub's `routing` section has it: custom endpoints, ordered
/// routes (a source, a condition, one endpoint), enrichments, and the fallback route.
///
/// Every accepted message is first stored in the event log (the built-in `events` endpoint: that is what
/// makes an acknowledged message durable), so routes never take messages away from it; they choose what
/// *also* goes to each custom endpoint. Each endpoint reads the log from its own durable position.
public struct RoutingTable: Sendable, Hashable, Codable {
    public var endpoints: [RoutingEndpoint]
    public var routes: [Route]
    public var enrichments: [Enrichment]
    public var fallbackRoute: FallbackRoute

    public init(endpoints: [RoutingEndpoint] = [], routes: [Route] = [], enrichments: [Enrichment] = [], fallbackRoute: FallbackRoute = .init()) {
        self.endpoints = endpoints
        self.routes = routes
        self.enrichments = enrichments
        self.fallbackRoute = fallbackRoute
    }

    /// The name of the built-in endpoint (the event log).
    public static let builtInEndpoint = "events"

    public static let maxRoutes = 100
    public static let maxEndpoints = 25
    public static let maxEnrichments = 10

    public func endpoint(named name: String) -> RoutingEndpoint? {
        endpoints.first { $0.name == name }
    }
}

/// What a route reads: Azure's data sources. Each event in the log has a `iothub-message-source`.
public enum RouteSource: String, Sendable, Hashable, Codable, CaseIterable {
    case deviceMessages = "DeviceMessages"
    case twinChangeEvents = "TwinChangeEvents"
    case deviceLifecycleEvents = "DeviceLifecycleEvents"
    case deviceConnectionStateEvents = "DeviceConnectionStateEvents"

    /// Whether a message from `source` (nil: telemetry stored without a source) belongs to this one.
    public func includes(_ source: DeviceMessage.Source?) -> Bool {
        switch self {
        case .deviceMessages: source == nil || source == .telemetry
        case .twinChangeEvents: source == .twinChangeEvents
        case .deviceLifecycleEvents: source == .deviceLifecycleEvents
        case .deviceConnectionStateEvents: source == .deviceConnectionStateEvents
        }
    }
}

/// One route: messages of `source` for which `condition` is true go to `endpointNames` (one endpoint,
/// as in Azure).
public struct Route: Sendable, Hashable, Codable {
    public var name: String
    public var source: RouteSource
    /// The routing query condition; `true` routes everything.
    public var condition: String
    public var endpointNames: [String]
    public var isEnabled: Bool

    public init(name: String, source: RouteSource = .deviceMessages, condition: String = "true", endpointNames: [String], isEnabled: Bool = true) {
        self.name = name
        self.source = source
        self.condition = condition
        self.endpointNames = endpointNames
        self.isEnabled = isEnabled
    }

    private enum CodingKeys: String, CodingKey { case name, source, condition, endpointNames, isEnabled }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        source = try c.decodeIfPresent(RouteSource.self, forKey: .source) ?? .deviceMessages
        condition = try c.decodeIfPresent(String.self, forKey: .condition) ?? "true"
        endpointNames = try c.decode([String].self, forKey: .endpointNames)
        isEnabled = try c.decodeIfPresent(Bool.self, forKey: .isEnabled) ?? true
    }
}

/// Device messages that match no enabled route go to the fallback route's endpoints (Azure: the built-in
/// endpoint, where every message already is; Meridian also lets it name a custom endpoint, e.g. cold
/// storage for "everything else").
public struct FallbackRoute: Sendable, Hashable, Codable {
    public var isEnabled: Bool
    public var endpointNames: [String]
    /// Like a route's; `true` by default.
    public var condition: String

    public init(isEnabled: Bool = true, endpointNames: [String] = [RoutingTable.builtInEndpoint], condition: String = "true") {
        self.isEnabled = isEnabled
        self.endpointNames = endpointNames
        self.condition = condition
    }

    private enum CodingKeys: String, CodingKey { case isEnabled, endpointNames, condition }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        isEnabled = try c.decodeIfPresent(Bool.self, forKey: .isEnabled) ?? true
        endpointNames = try c.decodeIfPresent([String].self, forKey: .endpointNames) ?? [RoutingTable.builtInEndpoint]
        condition = try c.decodeIfPresent(String.self, forKey: .condition) ?? "true"
    }
}

/// A property stamped on messages sent to some endpoints: a static value, or a value from the sending
/// device's twin (`$twin.tags.deliveryZone`, `$twin.properties.desired.route`) or the hub's name
/// (`$iothubname`). A twin path that does not exist stamps nothing (as in Azure).
public struct Enrichment: Sendable, Hashable, Codable {
    public var key: String
    public var value: String
    public var endpointNames: [String]

    public init(key: String, value: String, endpointNames: [String]) {
        self.key = key
        self.value = value
        self.endpointNames = endpointNames
    }
}

/// A custom endpoint.
public struct RoutingEndpoint: Sendable, Hashable, Codable {
    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    public enum Kind: Sendable, Hashable {
        /// JSON-lines files `{endpoint}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}.jsonl` (enqueued time, UTC)
        /// under `directory` (relative paths are relative to the data directory's `routing/storage`).
        case fileStorage(directory: String?)
        /// An HTTP(S) POST of a JSON array of records per batch, retried with back-off until a 2xx.
        case webhook(WebhookSettings)
        /// A queue inside the hub: an event log of its own that readers consume like the built-in one.
        case queue
    }

    /// `fileStorage`, `webhook`, `queue`.
    public var typeName: String {
        switch kind {
        case .fileStorage: "fileStorage"
        case .webhook: "webhook"
        case .queue: "queue"
        }
    }

    private enum CodingKeys: String, CodingKey { case name, type, directory, url, headers, maxBatchSize, timeoutSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "fileStorage":
            kind = .fileStorage(directory: try c.decodeIfPresent(String.self, forKey: .directory))
        case "webhook":
            var settings = WebhookSettings(url: try c.decode(String.self, forKey: .url))
            settings.headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
            settings.maxBatchSize = try c.decodeIfPresent(Int.self, forKey: .maxBatchSize) ?? settings.maxBatchSize
            settings.timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? settings.timeoutSeconds
            kind = .webhook(settings)
        case "queue":
            kind = .queue
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "an endpoint type is fileStorage, webhook or queue (got '\(type)')")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(typeName, forKey: .type)
        switch kind {
        case .fileStorage(let directory):
            try c.encodeIfPresent(directory, forKey: .directory)
        case .webhook(let settings):
            try c.encode(settings.url, forKey: .url)
            if !settings.headers.isEmpty { try c.encode(settings.headers, forKey: .headers) }
            try c.encode(settings.maxBatchSize, forKey: .maxBatchSize)
            try c.encode(settings.timeoutSeconds, forKey: .timeoutSeconds)
        case .queue:
            break
        }
    }
}

/// Where and how a webhook endpoint posts.
public struct WebhookSettings: Sendable, Hashable {
    /// `http://` or `https://`.
    public var url: String
    /// Extra request headers (e.g. `Authorization`); never logged.
    public var headers: [String: String]
    /// Records per POST (1…1000).
    public var maxBatchSize: Int
    /// Per request (0.1…120 s).
    public var timeoutSeconds: Double

    public init(url: String, headers: [String: String] = [:], maxBatchSize: Int = 100, timeoutSeconds: Double = 10) {
        self.url = url
        self.headers = headers
        self.maxBatchSize = maxBatchSize
        self.timeoutSeconds = timeoutSeconds
    }
}
