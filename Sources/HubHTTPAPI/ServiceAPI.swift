import HTTPTypes
import HubAuth
import HubCore
import HubDevices
import HubRegistry
import HubRouting
import HubStorage
import HubStreamJobs
import Hummingbird
import Logging
import NIOCore

/// The service REST API (Azure IoT Hub's registry surface plus Meridian's extensions) as a Hummingbird
/// router built from `ServiceRoute`.
///
/// Every call goes through the same steps, in this order, so that unauthenticated callers cost nothing:
/// authenticate and authorize (`ServiceAuthenticator`), take a registry-rate token (`RequestThrottle`),
/// check the body's Content-Type and read it up to the limit while it streams, parse it strictly, run
/// the handler (`ServiceAPI+Devices` …), and write JSON. Any failure becomes Azure's error body
/// (`APIErrorMiddleware`).
///
/// The same router serves the device-side HTTPS API (`DeviceAPI`, route table `DeviceRoute`), which
/// authenticates devices instead of policies.
public struct ServiceAPI: Sendable {
    /// Limits and hooks, with defaults.
    public struct Configuration: Sendable {
        public static let defaultMaximumBodySize = 256 * 1024

        /// Host names SAS tokens may name (`HubConfiguration.hostNames`); with or without `:port`.
        public var hostNames: [String]
        /// Largest request body; larger ones get 413 while streaming. Default 256 KiB.
        public var maximumBodySize = defaultMaximumBodySize
        /// Registry operations per minute, hub-wide (`registry-rate`); 0 = unlimited.
        public var registryRatePerMinute = 6000
        /// Device-side HTTPS operations (send, receive, settle) per minute, hub-wide, in a bucket of
        /// their own; 0 = unlimited. Default 60 000 (1000/s), above Azure S1's device-to-cloud rate.
        public var deviceRatePerMinute = 60_000
        /// `connectedDeviceCount` of `GET /statistics/service`.
        public var connectedDeviceCount: @Sendable () -> Int = { 0 }
        /// The Prometheus text exposition served (without authentication, as scrapers expect) on
        /// `GET /metrics`; nil serves no `/metrics`.
        public var metrics: (@Sendable () -> [UInt8])?
        /// Seconds since 1970, for token expiry.
        public var now: @Sendable () -> Int64 = { WallClock.nowMillis() / 1000 }
        /// Monotonic nanoseconds, for the throttle.
        public var monotonicNanos: @Sendable () -> UInt64 = { ContinuousClock.now.nanosecondsSinceStart }

        public init(hostNames: [String]) {
            self.hostNames = hostNames
        }
    }

    let registry: DeviceRegistry
    /// The device protocol (direct methods, twins, cloud-to-device); nil answers its routes with 503.
    let devices: DeviceProtocol?
    /// The event log's read side (`/events`, `/consumergroups`); nil answers those routes with 503.
    let events: EventEndpoint?
    /// Message routing (`/routing`); nil answers those routes with 503.
    let routing: MessageRouter?
    /// Stream jobs (`/jobs/sql`); nil answers those routes with 503.
    let streamJobs: StreamJobs?
    /// Alarms (`/alarms`); nil answers those routes with 503.
    let alarms: (any AlarmStore)?
    /// The time-series store (`/timeseries`); nil answers those routes with 503.
    let timeSeries: TimeSeriesEndpoint?
    let configuration: Configuration
    let authenticator: ServiceAuthenticator
    let throttle: RequestThrottle
    /// The device-side routes on the same router.
    let deviceAPI: DeviceAPI
    let logger: Logger

    public init(
        registry: DeviceRegistry, devices: DeviceProtocol? = nil, events: EventEndpoint? = nil, routing: MessageRouter? = nil,
        streamJobs: StreamJobs? = nil, alarms: (any AlarmStore)? = nil, timeSeries: TimeSeriesEndpoint? = nil, configuration: Configuration,
        logger: Logger
    ) {
        self.timeSeries = timeSeries
        self.streamJobs = streamJobs
        self.alarms = alarms
        self.registry = registry
        self.devices = devices
        self.events = events
        self.routing = routing
        self.configuration = configuration
        self.authenticator = ServiceAuthenticator(
            validator: SASValidator(hostNames: configuration.hostNames),
            policy: { [registry] name in registry.policy(named: name) },
            now: configuration.now)
        self.throttle = RequestThrottle(perMinute: configuration.registryRatePerMinute, clock: configuration.monotonicNanos)
        self.deviceAPI = DeviceAPI(registry: registry, devices: devices, configuration: configuration, logger: logger)
        self.logger = logger
    }

    /// Adds every route of both tables (`ServiceRoute`, `DeviceRoute`) to `router`, behind the error
    /// middleware.
    public func addRoutes(to router: Router<APIRequestContext>) {
        if let metrics = configuration.metrics {
            router.get("/metrics") { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics())))
            }
        }
        for route in ServiceRoute.allCases {
            router.on(RouterPath(stringLiteral: route.path), method: route.method) { request, context in
                try await self.respond(route, request, context)
            }
        }
        deviceAPI.addRoutes(to: router)
    }

    /// A router serving this API and nothing else, answering unknown paths with JSON 404/405 (and 426 on
    /// `webSocketPaths`, which only serve WebSocket upgrades).
    public func makeRouter(webSocketPaths: [String] = []) -> Router<APIRequestContext> {
        let router = Self.makeEmptyRouter(webSocketPaths: webSocketPaths, logger: logger)
        addRoutes(to: router)
        return router
    }

    /// A router with the API's error handling and no routes: every request gets a JSON 404 (426 on
    /// `webSocketPaths`). For listeners that serve only MQTT over WebSockets.
    public static func makeEmptyRouter(webSocketPaths: [String], logger: Logger) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: APIErrorMiddleware(webSocketPaths: webSocketPaths, logger: logger))
        return router
    }

    func respond(_ route: ServiceRoute, _ request: Request, _ context: APIRequestContext) async throws(APIError) -> Response {
        _ = try authenticator.authorize(request.headers[.authorization], required: route.rights)
        if route.usesRegistryBudget { try throttle.admit() }
        var call = APICall(route: route, request: request, parameters: context.parameters)
        if route == .readEvents, Self.wantsEventStream(request) { return try await eventStream(call) }
        if route == .exportTimeSeries { return try pointStream(call) }
        if route.takesBody {
            call.body = try await readJSONBody(request)
        } else if route.takesRawBody {
            let limit = route == .writeTimeSeries ? (timeSeries?.maximumWriteBytes ?? 0) : configuration.maximumBodySize
            call.rawBody = try await Self.readRawBody(request, limit: limit)
        }
        let result = try await handle(call)
        return result.response()
    }

    /// Checks the Content-Type, then collects the body up to the limit while it streams (a body over the
    /// limit is refused as soon as its size is known, without buffering it), then parses it.
    func readJSONBody(_ request: Request) async throws(APIError) -> JSONValue {
        guard let contentType = request.headers[.contentType], Self.isJSON(contentType) else {
            throw APIError(.unsupportedMediaType, "the body must be application/json")
        }
        let limit = configuration.maximumBodySize
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(.messageTooLarge, "the body is larger than \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.messageTooLarge, "the body is larger than \(limit) bytes")
        } catch {
            throw APIError(.argumentInvalid, "the body could not be read")
        }
        guard buffer.readableBytes > 0 else { throw APIError(.argumentNull, "the request needs a JSON body") }
        do {
            return try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError(.argumentInvalid, "\(error)")
        }
    }

    /// The body's bytes up to `limit` (413 beyond it, while it streams), for message routes.
    static func readRawBody(_ request: Request, limit: Int) async throws(APIError) -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(.messageTooLarge, "the body is larger than \(limit) bytes")
        }
        do {
            return Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.messageTooLarge, "the body is larger than \(limit) bytes")
        } catch {
            throw APIError(.argumentInvalid, "the body could not be read")
        }
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`), case-insensitive.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces().lowercased() }
        return mediaType == "application/json"
    }

    /// Runs a registry call, turning its error into the API's.
    func perform<T: Sendable>(_ body: () async throws(RegistryError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw APIError(error)
        }
    }
}

/// One call: the route, the request, and what was read from it.
struct APICall {
    let route: ServiceRoute
    let request: Request
    let parameters: Parameters
    var body: JSONValue?
    /// The raw body of message routes.
    var rawBody: [UInt8]?

    init(route: ServiceRoute, request: Request, parameters: Parameters) {
        self.route = route
        self.request = request
        self.parameters = parameters
    }

    /// A path capture, percent-decoded.
    func capture(_ name: String) throws(APIError) -> String {
        try parameters.decoded(name)
    }

    func deviceID() throws(APIError) -> DeviceID {
        try parameters.deviceID()
    }

    func moduleID() throws(APIError) -> ModuleID {
        try parameters.moduleID()
    }

    /// A name capture of the extensions (policy, certificate, user): 1…128 bytes, no control characters.
    func name(_ capture: String) throws(APIError) -> String {
        let value = try self.capture(capture)
        guard !value.isEmpty, value.utf8.count <= 128, !value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else {
            throw .invalid("\(capture) must be 1 to 128 characters without control characters")
        }
        return value
    }

    /// `If-Match`, unquoted (`"MQ=="` → `MQ==`, `W/"x"` → `x`); `*` and `"*"` both give `*`.
    var ifMatch: String? {
        guard var value = request.headers[.ifMatch]?.trimmingSpaces(), !value.isEmpty else { return nil }
        if value.hasPrefix("W/") { value.removeFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return value
    }

    func query(_ name: String) -> String? {
        request.query(name)
    }

    var jsonBody: JSONValue {
        get throws(APIError) {
            guard let body else { throw APIError(.argumentNull, "the request needs a JSON body") }
            return body
        }
    }
}

/// What a handler answers: a status, JSON (or nothing) and headers.
struct APIResult {
    var status: HTTPResponse.Status
    var json: JSONValue?
    var headers: HTTPFields = [:]
    /// JSON already written as bytes (large answers built without a `JSONValue` tree); wins over `json`.
    var jsonBytes: [UInt8]?

    static func ok(_ json: JSONValue, etag: String? = nil) -> APIResult {
        var result = APIResult(status: .ok, json: json)
        if let etag { result.headers[.eTag] = "\"\(etag)\"" }
        return result
    }

    static let noContent = APIResult(status: .noContent, json: nil)

    /// 200 with JSON the handler wrote itself.
    static func ok(bytes: [UInt8]) -> APIResult {
        APIResult(status: .ok, json: nil, jsonBytes: bytes)
    }

    func response() -> Response {
        var headers = self.headers
        guard let bytes = jsonBytes ?? json.map(JSONWriter.bytes) else { return Response(status: status, headers: headers) }
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
