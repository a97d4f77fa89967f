import HubCore
import HubDevices
import HubRegistry

/// `POST /twins/{id}[/modules/{mid}]/methods`: direct method calls.
extension ServiceAPI {
    func invokeMethod(_ call: APICall, module: Bool) async throws(APIError) -> APIResult {
        guard let devices else { throw APIError(.serviceUnavailable, "direct methods are not available") }
        let deviceID = try call.deviceID()
        let moduleID = module ? try call.moduleID() : nil
        let request = try MethodJSON.decode(try call.jsonBody)
        // The identity must exist (404 DeviceNotFound / ModuleNotFound), as Azure answers.
        if let moduleID {
            _ = try await perform { () async throws(RegistryError) in try await registry.module(deviceID, moduleID) }
        } else {
            _ = try await perform { () async throws(RegistryError) in try await registry.device(deviceID) }
        }
        do {
            let response = try await devices.methods.invoke(request, on: IdentityID(device: deviceID, module: moduleID))
            return .ok(response.json)
        } catch {
            throw APIError(error)
        }
    }
}

extension APIError {
    init(_ error: DirectMethodError) {
        switch error.code {
        case .deviceNotOnline: self.init(.deviceNotOnline, error.message)
        case .timeout: self.init(.gatewayTimeout, error.message)
        case .payloadTooLarge: self.init(.messageTooLarge, error.message)
        case .throttled: self.init(.throttled, error.message)
        default: self.init(.argumentInvalid, error.message)
        }
    }
}

/// The body of a method call: `{"methodName", "payload", "responseTimeoutInSeconds", "connectTimeoutInSeconds"}`.
enum MethodJSON {
    static func decode(_ body: JSONValue) throws(APIError) -> DirectMethodRequest {
        let reader = try JSONReader(body)
        try reader.allowOnly(["methodName", "payload", "responseTimeoutInSeconds", "connectTimeoutInSeconds"])
        guard let name = try reader.string("methodName") else { throw APIError(.argumentNull, "methodName is required") }
        let request = DirectMethodRequest(
            methodName: name, payload: reader.object["payload"] ?? .null,
            responseTimeoutSeconds: try reader.int("responseTimeoutInSeconds"),
            connectTimeoutSeconds: try reader.int("connectTimeoutInSeconds"))
        do {
            try request.validate()
        } catch {
            throw APIError(error)
        }
        return request
    }
}
