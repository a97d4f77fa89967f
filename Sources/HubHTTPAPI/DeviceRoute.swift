import HTTPTypes

/// Every route of the device-side HTTPS API (protocol reference §6): **the device route table**. The
/// router, the 405 `Allow` logic and the tests are built from `allCases`.
///
/// Device routes have no rights column: each is open only to the identity its path names, with a SAS
/// token of that identity's key, or of a policy with DeviceConnect (`DeviceAuthenticator`). They share
/// paths with service routes and the method decides: `POST /devices/{id}/messages/deviceBound` is the
/// service's send (`ServiceRoute.sendCloudToDevice`), `GET` on the same path the device's receive.
public enum DeviceRoute: String, CaseIterable, Sendable {
    case sendEvent, sendModuleEvent
    case receiveCloudToDevice, completeCloudToDevice, abandonCloudToDevice

    /// Method and path pattern (`{name}` captures one segment), in one place.
    public var definition: (method: HTTPRequest.Method, path: String) {
        switch self {
        case .sendEvent: (.post, "/devices/{deviceId}/messages/events")
        case .sendModuleEvent: (.post, "/devices/{deviceId}/modules/{moduleId}/messages/events")
        case .receiveCloudToDevice: (.get, "/devices/{deviceId}/messages/deviceBound")
        // `?reject` (or `?reject=true`) rejects instead of completing.
        case .completeCloudToDevice: (.delete, "/devices/{deviceId}/messages/deviceBound/{etag}")
        case .abandonCloudToDevice: (.post, "/devices/{deviceId}/messages/deviceBound/{etag}/abandon")
        }
    }

    public var method: HTTPRequest.Method { definition.method }
    public var path: String { definition.path }

    /// Whether the route names a module (and so authenticates the module identity).
    var namesModule: Bool { self == .sendModuleEvent }

    /// Whether the route reads its body as raw bytes (a message), whatever its Content-Type.
    var takesRawBody: Bool { self == .sendEvent || self == .sendModuleEvent }

    /// Methods this table serves at `path`.
    static func methods(at path: String) -> [HTTPRequest.Method] {
        allCases.filter { RoutePattern.matches($0.path, path: path) }.map(\.method)
    }
}
