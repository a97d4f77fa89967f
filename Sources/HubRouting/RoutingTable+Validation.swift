import HubCore
import HubTwins

/// A routing table that cannot be used, with what is wrong in words fit for an API error body.
public struct RoutingError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The table or a part of it breaks a rule (names, counts, references, values).
        case invalid = "InvalidRoutingConfiguration"
        /// A route's condition does not parse.
        case invalidCondition = "InvalidRouteCondition"
        /// No such route / endpoint.
        case notFound = "RoutingItemNotFound"
        /// A name already taken.
        case conflict = "RoutingItemAlreadyExists"
        /// The store failed.
        case storage = "RoutingStorageError"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension RoutingTable {
    /// Names of routes, endpoints and enrichment keys: 1–64 of `A–Z a–z 0–9 - _ .` (Azure's rule).
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count) else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
        }
    }

    /// Checks every rule and compiles the conditions; throws the first problem.
    public func compiled() throws(RoutingError) -> CompiledRouting {
        try validate()
        return try CompiledRouting(self)
    }

    func validate() throws(RoutingError) {
        guard routes.count <= Self.maxRoutes else { throw RoutingError(.invalid, "at most \(Self.maxRoutes) routes (got \(routes.count))") }
        guard endpoints.count <= Self.maxEndpoints else {
            throw RoutingError(.invalid, "at most \(Self.maxEndpoints) custom endpoints (got \(endpoints.count))")
        }
        guard enrichments.count <= Self.maxEnrichments else {
            throw RoutingError(.invalid, "at most \(Self.maxEnrichments) enrichments (got \(enrichments.count))")
        }
        var endpointNames: Set<String> = [Self.builtInEndpoint]
        for endpoint in endpoints {
            guard Self.isValidName(endpoint.name) else { throw RoutingError(.invalid, "endpoint name '\(endpoint.name)': 1-64 of A-Z a-z 0-9 - _ .") }
            guard endpointNames.insert(endpoint.name).inserted else {
                throw RoutingError(.conflict, endpoint.name == Self.builtInEndpoint
                    ? "'events' is the built-in endpoint's name" : "two endpoints are named '\(endpoint.name)'")
            }
            try endpoint.validate()
        }
        var routeNames: Set<String> = []
        for route in routes {
            guard Self.isValidName(route.name) else { throw RoutingError(.invalid, "route name '\(route.name)': 1-64 of A-Z a-z 0-9 - _ .") }
            guard routeNames.insert(route.name).inserted else { throw RoutingError(.conflict, "two routes are named '\(route.name)'") }
            guard route.endpointNames.count == 1 else {
                throw RoutingError(.invalid, "route '\(route.name)': a route names exactly one endpoint")
            }
            for name in route.endpointNames where !endpointNames.contains(name) {
                throw RoutingError(.invalid, "route '\(route.name)': no endpoint named '\(name)'")
            }
        }
        for name in fallbackRoute.endpointNames where !endpointNames.contains(name) {
            throw RoutingError(.invalid, "fallback route: no endpoint named '\(name)'")
        }
        guard fallbackRoute.endpointNames.count == 1 else { throw RoutingError(.invalid, "the fallback route names exactly one endpoint") }
        var keys: Set<String> = []
        for enrichment in enrichments {
            guard Self.isValidName(enrichment.key), !enrichment.key.hasPrefix("$") else {
                throw RoutingError(.invalid, "enrichment key '\(enrichment.key)': 1-64 of A-Z a-z 0-9 - _ .")
            }
            guard keys.insert(enrichment.key).inserted else { throw RoutingError(.conflict, "two enrichments have the key '\(enrichment.key)'") }
            guard (1...128).contains(enrichment.value.utf8.count) else {
                throw RoutingError(.invalid, "enrichment '\(enrichment.key)': a value of 1 to 128 characters")
            }
            guard !enrichment.endpointNames.isEmpty else { throw RoutingError(.invalid, "enrichment '\(enrichment.key)': name at least one endpoint") }
            for name in enrichment.endpointNames where !endpointNames.contains(name) {
                throw RoutingError(.invalid, "enrichment '\(enrichment.key)': no endpoint named '\(name)'")
            }
            if enrichment.value.hasPrefix("$"), EnrichmentValue(enrichment.value) == nil {
                throw RoutingError(.invalid, "enrichment '\(enrichment.key)': '$' values are $iothubname, $twin.tags.… or $twin.properties.desired|reported.…")
            }
        }
    }
}

extension RoutingEndpoint {
    func validate() throws(RoutingError) {
        switch kind {
        case .fileStorage(let directory):
            if let directory, directory.isEmpty || directory.utf8.contains(0) {
                throw RoutingError(.invalid, "endpoint '\(name)': an empty or invalid directory")
            }
        case .webhook(let settings):
            let lower = settings.url.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), settings.url.utf8.count <= 2048, !settings.url.contains(" ") else {
                throw RoutingError(.invalid, "endpoint '\(name)': the url must be http:// or https://")
            }
            guard (1...1000).contains(settings.maxBatchSize) else {
                throw RoutingError(.invalid, "endpoint '\(name)': maxBatchSize is 1 to 1000")
            }
            guard settings.timeoutSeconds >= 0.1, settings.timeoutSeconds <= 120 else {
                throw RoutingError(.invalid, "endpoint '\(name)': timeoutSeconds is 0.1 to 120")
            }
            for (header, value) in settings.headers {
                guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }),
                    !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A })
                else { throw RoutingError(.invalid, "endpoint '\(name)': header '\(header)' is not a valid HTTP header") }
            }
        case .queue:
            break
        }
    }
}

/// An enrichment's `$` value.
enum EnrichmentValue: Sendable, Hashable {
    case hubName
    /// A path into the service twin below `tags` or `properties` (`["tags", "zone"]`).
    case twin([String])

    init?(_ text: String) {
        if text == "$iothubname" {
            self = .hubName
            return
        }
        guard text.hasPrefix("$twin.") else { return nil }
        let path = text.dropFirst(6).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.count >= 2, !path.contains(where: \.isEmpty) else { return nil }
        switch path[0] {
        case "tags": break
        case "properties" where path.count >= 3 && (path[1] == "desired" || path[1] == "reported"): break
        default: return nil
        }
        self = .twin(path)
    }
}
