import HTTPTypes
import HubAuth
import HubCore
import HubDevices
import HubMessaging
import HubRegistry
import Hummingbird
import Logging
import NIOCore

/// The device-side HTTPS API (protocol reference §6): telemetry and cloud-to-device messages for
/// devices that do not keep an MQTT connection. Served by the same router as `ServiceAPI` (which
/// creates it and adds its routes), from the route table `DeviceRoute`.
///
/// Every call goes through the same steps, in this order: the `Authorization` header must be present
/// (401 before anything else), the path's identity is parsed (400), the token is checked against that
/// identity (`DeviceAuthenticator`, 401), a device-rate token is taken (429), the body is read up to
/// the limit while it streams (413), and the handler runs. Failures become Azure's error body.
///
/// **Throttling**: a separate device-rate bucket (`ServiceAPI.Configuration.deviceRatePerMinute`,
/// hub-wide), not the registry's, so devices polling for messages cannot starve registry operations
/// and the other way round. Bodies and message headers are never logged.
struct DeviceAPI: Sendable {
    /// The device protocol (telemetry sink, broker routing, cloud-to-device queues); nil answers 503.
    let devices: DeviceProtocol?
    let authenticator: DeviceAuthenticator
    let throttle: RequestThrottle
    /// Largest body read from the wire; the message limit as Azure counts it (body and properties) is
    /// the device protocol's.
    let maximumBodySize: Int
    let logger: Logger

    init(registry: DeviceRegistry, devices: DeviceProtocol?, configuration: ServiceAPI.Configuration, logger: Logger) {
        self.devices = devices
        self.authenticator = DeviceAuthenticator(
            validator: SASValidator(hostNames: configuration.hostNames), registry: registry, now: configuration.now, logger: logger)
        self.throttle = RequestThrottle(perMinute: configuration.deviceRatePerMinute, purpose: "device", clock: configuration.monotonicNanos)
        self.maximumBodySize = configuration.maximumBodySize
        self.logger = logger
    }

    /// Adds every device route to `router`.
    func addRoutes(to router: Router<APIRequestContext>) {
        for route in DeviceRoute.allCases {
            router.on(RouterPath(stringLiteral: route.path), method: route.method) { request, context in
                try await self.respond(route, request, context)
            }
        }
    }

    func respond(_ route: DeviceRoute, _ request: Request, _ context: APIRequestContext) async throws(APIError) -> Response {
        let header = try DeviceAuthenticator.header(request.headers[.authorization])
        let parameters = context.parameters
        let identity = IdentityID(device: try parameters.deviceID(), module: route.namesModule ? try parameters.moduleID() : nil)
        let caller = try await authenticator.authenticate(header, as: identity)
        try throttle.admit()
        guard let devices else { throw APIError(.serviceUnavailable, "device messaging is not available") }
        switch route {
        case .sendEvent, .sendModuleEvent:
            let body = try await ServiceAPI.readRawBody(request, limit: maximumBodySize)
            return try await sendEvent(body, headers: request.headers, caller: caller, devices: devices)
        case .receiveCloudToDevice:
            return try await receive(caller.identity.device, devices: devices)
        case .completeCloudToDevice:
            let token = try Self.lockToken(parameters)
            let service = devices.cloudToDevice
            if try Self.isReject(request.query("reject")) {
                try await ServiceAPI.messaging { () async throws(MessagingError) in try await service.reject(identity.device, lockToken: token) }
            } else {
                try await ServiceAPI.messaging { () async throws(MessagingError) in try await service.complete(identity.device, lockToken: token) }
            }
            return Response(status: .noContent)
        case .abandonCloudToDevice:
            let token = try Self.lockToken(parameters)
            let service = devices.cloudToDevice
            try await ServiceAPI.messaging { () async throws(MessagingError) in try await service.abandon(identity.device, lockToken: token) }
            return Response(status: .noContent)
        }
    }

    /// `POST …/messages/events`: 204 once the telemetry sink has the message; 503 (with `Retry-After`)
    /// when it could not store it.
    func sendEvent(_ body: [UInt8], headers: HTTPFields, caller: DeviceAuthenticator.Caller, devices: DeviceProtocol) async throws(APIError) -> Response {
        let pairs = headers.map { (name: $0.name.rawName, value: $0.value) }
        let message = try await ServiceAPI.messaging { () throws(MessagingError) in try HTTPMessageHeaders.telemetry(headers: pairs, body: body) }
        do {
            try await devices.acceptHTTPSTelemetry(message, from: caller.identity, generationID: caller.generationID)
        } catch {
            var answer = APIError(error)
            if error.code == .storage { answer.headers.append(("Retry-After", "1")) }
            throw answer
        }
        return Response(status: .noContent)
    }

    /// `GET …/messages/deviceBound`: 204 when nothing is waiting; else 200 with the body, the ETag
    /// (quoted lock token) and the message's `iothub-*` headers.
    func receive(_ device: DeviceID, devices: DeviceProtocol) async throws(APIError) -> Response {
        let service = devices.cloudToDevice
        let next = try await ServiceAPI.messaging { () async throws(MessagingError) in try await service.nextForDelivery(device) }
        guard let delivery = next else { return Response(status: .noContent) }
        var fields = HTTPFields()
        var skipped = 0
        for header in HTTPMessageHeaders.cloudToDeviceReceive(delivery) {
            guard let name = HTTPField.Name(header.name) else {
                skipped += 1
                continue
            }
            fields.append(HTTPField(name: name, value: header.value))
        }
        if skipped > 0 {
            logger.debug("application properties without a valid header name were not sent", metadata: ["device": "\(device)", "count": "\(skipped)"])
        }
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: delivery.message.body)))
    }

    /// The `{etag}` capture: percent-decoded, quotes removed (the path form is unquoted, but a client
    /// may copy the quoted ETag).
    static func lockToken(_ parameters: Parameters) throws(APIError) -> String {
        let token = HTTPMessageHeaders.lockToken(fromETag: try parameters.decoded("etag"))
        guard !token.isEmpty else { throw .invalid("the lock token is empty") }
        return token
    }

    /// `?reject` and `?reject=true` reject; absent or `?reject=false` complete; anything else is 400.
    static func isReject(_ value: String?) throws(APIError) -> Bool {
        switch value?.lowercased() {
        case nil, "false": false
        case "", "true": true
        default: throw .invalid("reject must be empty, true or false")
        }
    }
}
