import Foundation
import HTTPTypes
import HubAuth
import HubCore
import HubDevices
import HubMessaging
import HubRegistry
import HubStorage
import HubTwins
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import HubHTTPAPI

/// A registry on in-memory stores with a known owner key, and the service API over it; optionally a
/// real device protocol (telemetry sink, cloud-to-device queues, twins) behind it.
struct TestHub {
    static let host = "localhost"
    let registry: DeviceRegistry
    let ownerKey: SharedAccessKey
    let api: ServiceAPI
    /// The device protocol, when made `withDevices`.
    var devices: DeviceProtocol?

    /// What `make(withDevices:)` puts behind the API.
    struct DeviceSetup {
        var telemetry: any TelemetrySink = InMemoryTelemetrySink()
        var cloudToDevice = CloudToDeviceService.Configuration()
    }

    /// - Parameters:
    ///   - registryRate: operations per minute (0 = unlimited).
    ///   - clock: monotonic nanoseconds for the throttle.
    static func make(
        registryRate: Int = 0, maximumBodySize: Int = ServiceAPI.Configuration.defaultMaximumBodySize,
        connectedDevices: Int = 0, clock: (@Sendable () -> UInt64)? = nil, deviceRate: Int = 0, withDevices setup: DeviceSetup? = nil
    ) async throws -> TestHub {
        var logger = Logger(label: "test-registry")
        logger.logLevel = .warning
        let registry = DeviceRegistry(
            store: InMemoryRegistryStore(), policies: InMemoryAccessPolicyStore(), certificates: InMemoryCertificateStore(),
            users: InMemoryUserStore(), logger: logger)
        let ownerKey = SharedAccessKey.generate()
        try await registry.bootstrap(ownerKey: ownerKey)
        var configuration = ServiceAPI.Configuration(hostNames: [host, "myhub.azure-devices.net"])
        configuration.registryRatePerMinute = registryRate
        configuration.deviceRatePerMinute = deviceRate
        configuration.maximumBodySize = maximumBodySize
        configuration.connectedDeviceCount = { connectedDevices }
        if let clock { configuration.monotonicNanos = clock }
        var devices: DeviceProtocol?
        if let setup {
            let cloudToDevice = try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), configuration: setup.cloudToDevice, logger: logger)
            devices = DeviceProtocol(
                registry: registry, twins: TwinService(store: InMemoryTwinStore(), logger: logger), telemetry: setup.telemetry,
                cloudToDevice: cloudToDevice, logger: logger)
        }
        let api = ServiceAPI(registry: registry, devices: devices, configuration: configuration, logger: logger)
        return TestHub(registry: registry, ownerKey: ownerKey, api: api, devices: devices)
    }

    /// A service token of `policy` (its primary key unless `key` is given).
    func token(
        policy: String = "iothubowner", key: SharedAccessKey? = nil, host: String = TestHub.host,
        expiry: Int64 = WallClock.nowMillis() / 1000 + 3600
    ) -> String {
        let signingKey = key ?? registry.policy(named: policy)!.primaryKey
        return SASToken.make(resourceURI: host, key: signingKey, expiry: expiry, keyName: policy)
    }

    func application() -> some ApplicationProtocol {
        Application(router: api.makeRouter(webSocketPaths: ["/mqtt"]))
    }

    /// Runs `body` against the router (no sockets).
    func withClient<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await application().test(.router) { client in try await body(client) }
    }
}

/// Request helpers shared by the route tests.
extension TestClientProtocol {
    /// A JSON request with the owner's token (or `token`), `api-version` appended like the SDK does.
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String?, ifMatch: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = token }
        if let ifMatch { headers[.ifMatch] = ifMatch }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json; charset=utf-8" }
        let separator = path.contains("?") ? "&" : "?"
        return try await execute(
            uri: path + separator + "api-version=2021-04-12", method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body as JSON.
    var json: JSONValue? { try? JSONParser.parse(Array(body.readableBytesView)) }

    var text: String { String(buffer: body) }

    /// Azure's error body, unwrapped: (errorCode, message) from `{"Message":"{…}","ExceptionMessage":""}`.
    var azureError: (code: Int, message: String)? {
        guard case .object(let outer)? = json, case .string(let inner)? = outer["Message"], outer["ExceptionMessage"] == .string(""),
            case .object(let error)? = try? JSONParser.parse(Array(inner.utf8)),
            case .number(let code)? = error["errorCode"], case .string(let message)? = error["message"],
            case .string? = error["trackingId"], case .string? = error["timestampUtc"]
        else { return nil }
        return (Int(code) ?? 0, message)
    }

    var errorName: String? { headers[HTTPField.Name("iothub-errorcode")!] }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    subscript(path path: String) -> JSONValue? {
        var value: JSONValue? = self
        for key in path.split(separator: ".") { value = value?[String(key)] }
        return value
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var int: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}

/// Checks that a response is Azure's error with this status and name.
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(response.errorName == name, sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(response.azureError != nil, "not Azure's error body: \(response.text)", sourceLocation: sourceLocation)
}
