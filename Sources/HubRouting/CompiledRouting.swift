import HubCore
import HubEventLog
import HubTwins

/// A validated routing table with its conditions parsed: decides, per event, which endpoints receive it
/// and which enrichments they stamp. Pure: the twin (when a condition or enrichment reads it) is passed
/// in by the caller.
public struct CompiledRouting: Sendable {
    public let table: RoutingTable

    struct Entry: Sendable {
        var route: Route
        var condition: RoutingCondition
    }

    private let entries: [Entry]
    private let fallback: RoutingCondition?
    private let enrichments: [String: [(key: String, value: String, dynamic: EnrichmentValue?)]]
    private let readsBody: Bool
    /// Whether any condition or enrichment reads the sending device's twin.
    public let needsTwin: Bool

    init(_ table: RoutingTable) throws(RoutingError) {
        self.table = table
        var entries: [Entry] = []
        for route in table.routes where route.isEnabled {
            entries.append(Entry(route: route, condition: try Self.parse(route.condition, what: "route '\(route.name)'")))
        }
        self.entries = entries
        fallback = table.fallbackRoute.isEnabled ? try Self.parse(table.fallbackRoute.condition, what: "the fallback route") : nil
        var enrichments: [String: [(key: String, value: String, dynamic: EnrichmentValue?)]] = [:]
        var enrichmentTwin = false
        for enrichment in table.enrichments {
            let dynamic = enrichment.value.hasPrefix("$") ? EnrichmentValue(enrichment.value) : nil
            if case .twin = dynamic { enrichmentTwin = true }
            for endpoint in enrichment.endpointNames {
                enrichments[endpoint, default: []].append((enrichment.key, enrichment.value, dynamic))
            }
        }
        self.enrichments = enrichments
        let conditions = entries.map(\.condition) + (fallback.map { [$0] } ?? [])
        readsBody = conditions.contains { $0.readsBody }
        needsTwin = enrichmentTwin || conditions.contains { $0.readsTwin }
    }

    private static func parse(_ text: String, what: String) throws(RoutingError) -> RoutingCondition {
        do {
            return try RoutingCondition(parsing: text)
        } catch {
            let position = error.line.map { line in "line \(line), column \(error.column ?? 1): " } ?? ""
            throw RoutingError(.invalidCondition, "\(what): \(position)\(error.message)")
        }
    }

    /// The endpoints a custom endpoint set reads from (every name a route or the fallback sends to).
    public var endpointNames: Set<String> {
        Set(entries.flatMap(\.route.endpointNames) + (fallback != nil ? table.fallbackRoute.endpointNames : []))
    }

    /// Where `event` goes.
    public struct Decision: Sendable, Hashable {
        /// Endpoint names (the built-in `events` included when a route or the fallback names it).
        public var endpoints: Set<String> = []
        /// The routes whose condition was true.
        public var matchedRoutes: [String] = []
        /// Whether the fallback route took it.
        public var fellBack = false
    }

    /// Evaluates every enabled route of the event's source, in order, and the fallback for device
    /// messages no route took. `twin` is the sending device's service twin when `needsTwin`.
    public func decide(_ event: LogEvent, twin: JSONValue?) -> Decision {
        var decision = Decision()
        let source = event.message.messageSource
        var document: JSONValue?
        for entry in entries where entry.route.source.includes(source) {
            if document == nil { document = Self.document(event, twin: twin, body: readsBody) }
            if entry.condition.matches(document!) {
                decision.matchedRoutes.append(entry.route.name)
                decision.endpoints.formUnion(entry.route.endpointNames)
            }
        }
        if decision.matchedRoutes.isEmpty, let fallback, RouteSource.deviceMessages.includes(source) {
            if document == nil { document = Self.document(event, twin: twin, body: readsBody) }
            if fallback.matches(document!) {
                decision.fellBack = true
                decision.endpoints.formUnion(table.fallbackRoute.endpointNames)
            }
        }
        return decision
    }

    /// The properties `endpoint` stamps on `event` (in the table's order): static values as written,
    /// `$iothubname` as `hubName`, twin paths from `twin` (strings as they are, other values as JSON;
    /// nothing when the path does not exist).
    public func enrichments(for endpoint: String, twin: JSONValue?, hubName: String) -> [(String, String)] {
        guard let list = enrichments[endpoint] else { return [] }
        var result: [(String, String)] = []
        for item in list {
            switch item.dynamic {
            case nil:
                result.append((item.key, item.value))
            case .hubName:
                result.append((item.key, hubName))
            case .twin(let path):
                var value = twin
                for name in path {
                    guard case .object(let object)? = value else { value = nil; break }
                    value = object[name]
                }
                switch value {
                case nil: break
                case .string(let s)?: result.append((item.key, s))
                case let other?: result.append((item.key, JSONWriter.string(other)))
                }
            }
        }
        return result
    }

    /// The document a condition sees: application properties by name (first of a repeated name, bare
    /// keys as ""), system properties under `$` names, `$body` (JSON bodies, when a condition reads
    /// it) and `$twin`.
    static func document(_ event: LogEvent, twin: JSONValue?, body: Bool) -> JSONValue {
        let message = event.message
        var object = JSONObject()
        for property in message.applicationProperties where object[property.name] == nil {
            object[property.name] = .string(property.value ?? "")
        }
        func put(_ name: String, _ value: String?) {
            if let value { object[name] = .string(value) }
        }
        put("$messageId", message.messageID)
        put("$correlationId", message.correlationID)
        put("$userId", message.userID)
        put("$contentType", message.contentType)
        put("$contentEncoding", message.contentEncoding)
        put("$connectionDeviceId", message.connectionDeviceID?.rawValue)
        put("$connectionModuleId", message.connectionModuleID?.rawValue)
        put("$connectionAuthMethod", message.connectionAuthMethod?.rawValue)
        put("$enqueuedTime", event.enqueuedTime.iso8601)
        put("$messageSource", (message.messageSource ?? .telemetry).rawValue)
        put("$outputName", message.outputName)
        put("$interfaceId", message.interfaceID)
        put("$component", message.component)
        if body, let json = event.bodyJSON { object["$body"] = json }
        if let twin { object["$twin"] = twin }
        return .object(object)
    }
}
