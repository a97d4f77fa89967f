import Foundation
import HubCore
import HubEventLog
import HubRouting

/// `/routing`: the message routing table and its endpoints' health.
///
/// - `GET /routing`, `PUT /routing`: the whole table (`{"endpoints": [...], "routes": [...],
///   "enrichments": [...], "fallbackRoute": {...}}`); a PUT is validated as a whole and either applied
///   whole or refused with a 400 naming the first problem (conditions with line and column).
/// - `PUT /routing/routes/{name}`, `DELETE …`: one route (added at the end, or replaced in place).
/// - `PUT /routing/endpoints/{name}`, `DELETE …`: one endpoint; deleting one a route or enrichment
///   still names is a 409.
/// - `GET /routing/endpoints`: each custom endpoint's health, counts, lag and positions.
/// - `GET /routing/queues/{name}/events?from=earliest|<offset>|<time>&limit=`: a queue endpoint's messages, as
///   the events API's JSON batch.
/// - `POST /routing/test`: which routes and endpoints a message would take (`{"message": {"body": …,
///   "appProperties": {…}, "systemProperties": {"contentType": …, "contentEncoding": …}},
///   "deviceId": "…"}`), reading the device's twin when a condition needs it.
///
/// Changing the table needs every right (webhook headers may hold credentials); reading health and
/// testing need ServiceConnect.
extension ServiceAPI {
    func routingCall(_ call: APICall) async throws(APIError) -> APIResult {
        guard let router = routing else { throw APIError(.serviceUnavailable, "message routing is not running") }
        switch call.route {
        case .getRouting:
            return .ok(try Self.json(router.table))
        case .putRouting:
            let table: RoutingTable = try Self.decode(try call.jsonBody, as: RoutingTable.self)
            return .ok(try Self.json(try await routingUpdate(router) { $0 = table }))
        case .putRoute:
            let name = try call.capture("name")
            let route: Route = try Self.decode(Self.withName(try call.jsonBody, name), as: Route.self)
            let table = try await routingUpdate(router) { table throws(RoutingError) in
                if let index = table.routes.firstIndex(where: { $0.name == name }) { table.routes[index] = route } else { table.routes.append(route) }
            }
            return .ok(try Self.json(table.routes.first { $0.name == name }))
        case .deleteRoute:
            let name = try call.capture("name")
            try await routingUpdate(router) { table throws(RoutingError) in
                guard let index = table.routes.firstIndex(where: { $0.name == name }) else { throw RoutingError(.notFound, "no route named '\(name)'") }
                table.routes.remove(at: index)
            }
            return .noContent
        case .putEndpoint:
            let name = try call.capture("name")
            let endpoint: RoutingEndpoint = try Self.decode(Self.withName(try call.jsonBody, name), as: RoutingEndpoint.self)
            let table = try await routingUpdate(router) { table throws(RoutingError) in
                if let index = table.endpoints.firstIndex(where: { $0.name == name }) {
                    table.endpoints[index] = endpoint
                } else {
                    table.endpoints.append(endpoint)
                }
            }
            return .ok(try Self.json(table.endpoint(named: name)))
        case .deleteEndpoint:
            let name = try call.capture("name")
            try await routingUpdate(router) { table throws(RoutingError) in
                guard let index = table.endpoints.firstIndex(where: { $0.name == name }) else { throw RoutingError(.notFound, "no endpoint named '\(name)'") }
                let users = table.routes.filter { $0.endpointNames.contains(name) }.map(\.name)
                    + (table.fallbackRoute.endpointNames.contains(name) ? ["(fallback)"] : [])
                    + table.enrichments.filter { $0.endpointNames.contains(name) }.map { "enrichment \($0.key)" }
                guard users.isEmpty else { throw RoutingError(.conflict, "endpoint '\(name)' is used by \(users.joined(separator: ", "))") }
                table.endpoints.remove(at: index)
            }
            return .noContent
        case .listEndpointStatus:
            return .ok(.array(await router.status().map(Self.statusJSON)))
        case .readQueue:
            // A queue endpoint reads like the built-in one, as a JSON batch (`from`, `limit`; one partition).
            let name = try call.capture("name")
            guard let queue = await router.queueReader(named: name) else { throw APIError(.notFound, "no queue endpoint named '\(name)'") }
            let endpoint = EventEndpoint(log: queue.log, groups: queue.groups)
            let request = try EventReadRequest(call, endpoint: endpoint, group: ConsumerGroups.defaultGroup)
            return .ok(try readBatch(request, endpoint))
        case .testRoute:
            let message = try Self.testMessage(try call.jsonBody)
            let decision = await router.test(message)
            return .ok(.object(JSONObject([
                "matchedRoutes": .array(decision.matchedRoutes.map(JSONValue.string)),
                "endpoints": .array(decision.endpoints.sorted().map(JSONValue.string)),
                "fallback": .bool(decision.fellBack),
            ])))
        default:
            throw APIError(.serverError, "not a routing route")
        }
    }

    @discardableResult
    private func routingUpdate(_ router: MessageRouter, _ change: @escaping @Sendable (inout RoutingTable) throws(RoutingError) -> Void) async throws(APIError) -> RoutingTable {
        do {
            return try await router.update(change)
        } catch {
            throw APIError(error)
        }
    }

    private static func withName(_ body: JSONValue, _ name: String) throws(APIError) -> JSONValue {
        guard case .object(var object) = body else { throw .invalid("the body must be a JSON object") }
        if let given = object["name"], given != .string(name) { throw .invalid("the body's name differs from the path's") }
        object["name"] = .string(name)
        return .object(object)
    }

    static func decode<T: Decodable>(_ body: JSONValue, as type: T.Type) throws(APIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(JSONWriter.bytes(body)))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalid("'\(key.stringValue)' is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalid("'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalid(context.debugDescription)
        } catch {
            throw .invalid("the body is not a valid routing document")
        }
    }

    static func json<T: Encodable>(_ value: T) throws(APIError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(try JSONEncoder().encode(value)))
        } catch {
            throw APIError(.serverError, "encoding the routing table failed")
        }
    }

    private static func statusJSON(_ status: EndpointStatus) -> JSONValue {
        var object = JSONObject()
        object["name"] = .string(status.endpoint)
        object["type"] = .string(status.type)
        object["health"] = .string(status.health.rawValue)
        object["delivered"] = .number(String(status.delivered))
        object["read"] = .number(String(status.read))
        object["failures"] = .number(String(status.failures))
        object["lost"] = .number(String(status.lost))
        object["lag"] = .number(String(status.lag))
        object["lastError"] = .optional(status.lastError)
        object["lastErrorTime"] = .optional(status.lastErrorTime?.iso8601)
        object["lastDeliveryTime"] = .optional(status.lastDeliveryTime?.iso8601)
        var positions = JSONObject()
        for (partition, offset) in status.positions.sorted(by: { $0.key < $1.key }) { positions[String(partition)] = .number(String(offset)) }
        object["positions"] = .object(positions)
        return .object(object)
    }

    /// The message of a route test: a body (JSON value, or a string taken as its UTF-8 bytes), application
    /// and system properties, and the device it comes from.
    private static func testMessage(_ body: JSONValue) throws(APIError) -> DeviceMessage {
        guard case .object(let request) = body else { throw .invalid("the body must be a JSON object") }
        var message = DeviceMessage(body: [])
        if case .string(let device)? = request["deviceId"] {
            message.connectionDeviceID = try Self.validDeviceID(device)
        }
        guard case .object(let input)? = request["message"] else { throw .invalid("'message' must be an object") }
        switch input["body"] {
        case nil, .null?: break
        case .string(let text)?: message.body = Array(text.utf8)
        case let value?: message.body = JSONWriter.bytes(value)
        }
        if case .object(let properties)? = input["appProperties"] {
            for (name, value) in properties.members {
                guard case .string(let text) = value else { throw .invalid("appProperties values must be strings") }
                message.applicationProperties.append(.init(name, text))
            }
        }
        if case .object(let system)? = input["systemProperties"] {
            if case .string(let s)? = system["contentType"] { message.contentType = s }
            if case .string(let s)? = system["contentEncoding"] { message.contentEncoding = s }
            if case .string(let s)? = system["messageId"] { message.messageID = s }
        }
        message.messageSource = .telemetry
        message.enqueuedTime = .now()
        return message
    }

    private static func validDeviceID(_ text: String) throws(APIError) -> DeviceID {
        do {
            return try DeviceID(validating: text)
        } catch {
            throw .invalid("'deviceId' is not a valid device id")
        }
    }
}

extension APIError {
    init(_ error: RoutingError) {
        switch error.code {
        case .invalid, .invalidCondition: self.init(.argumentInvalid, error.message)
        case .notFound: self.init(.notFound, error.message)
        case .conflict: self.init(Code("Conflict", 409001), error.message)
        case .storage: self.init(.serverError, error.message)
        }
    }
}
