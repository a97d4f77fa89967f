import HubCore

/// A direct method call as the service asks for it (`POST /twins/{id}/methods`).
public struct DirectMethodRequest: Sendable, Hashable {
    /// Printable ASCII without `$ ( ) < > @ , ; : \ " / [ ] ? = { }`, space or tab; 1–128 characters.
    public var methodName: String
    /// JSON sent as the request body (`null` sends an empty body).
    public var payload: JSONValue
    /// How long to wait for the device's answer once the request was sent: 5–300 s.
    public var responseTimeoutSeconds: Int
    /// How long to wait for the device to be connected and subscribed to methods: 0–300 s (0: fail at
    /// once with 404103 when it is not).
    public var connectTimeoutSeconds: Int

    public static let defaultResponseTimeoutSeconds = 30
    /// Request and response payloads are limited to 128 KiB (Azure's limit).
    public static let maximumPayloadBytes = 128 * 1024

    public init(methodName: String, payload: JSONValue, responseTimeoutSeconds: Int? = nil, connectTimeoutSeconds: Int? = nil) {
        self.methodName = methodName
        self.payload = payload
        self.responseTimeoutSeconds = responseTimeoutSeconds ?? Self.defaultResponseTimeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds ?? 0
    }

    /// Checks the name, timeouts and payload size; the error names the rule, never the payload.
    public func validate() throws(DirectMethodError) {
        let forbidden: Set<UInt8> = Set("$()<>@,;:\\\"/[]?={} \t".utf8)
        let name = methodName.utf8
        guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !forbidden.contains($0) }) else {
            throw DirectMethodError(.invalid, "methodName must be 1-128 printable ASCII characters without $()<>@,;:\\\"/[]?={} or spaces")
        }
        guard (5...300).contains(responseTimeoutSeconds) else {
            throw DirectMethodError(.invalid, "responseTimeoutInSeconds must be between 5 and 300")
        }
        guard (0...300).contains(connectTimeoutSeconds) else {
            throw DirectMethodError(.invalid, "connectTimeoutInSeconds must be between 0 and 300")
        }
        guard requestBody.count <= Self.maximumPayloadBytes else {
            throw DirectMethodError(.payloadTooLarge, "the method payload is larger than 128 KiB")
        }
    }

    /// The bytes published to the device.
    public var requestBody: [UInt8] {
        payload == .null ? [] : JSONWriter.bytes(payload)
    }
}

/// The device's answer: the status it chose and its JSON payload.
public struct DirectMethodResponse: Sendable, Hashable {
    public var status: Int
    public var payload: JSONValue

    public init(status: Int, payload: JSONValue) {
        self.status = status
        self.payload = payload
    }

    /// `{"status": …, "payload": …}`, the service API's body.
    public var json: JSONValue {
        .object(JSONObject(["status": .int(status), "payload": payload]))
    }

    /// Reads a device's response body: empty → null; JSON → that value; anything else (a device may
    /// answer with plain text) → a JSON string of it when it is UTF-8, else null.
    public static func payload(fromDeviceBody body: [UInt8]) -> JSONValue {
        if body.isEmpty || body.allSatisfy({ $0 == 0x20 }) { return .null }
        if let value = try? JSONParser.parse(body) { return value }
        return String(validating: body, as: UTF8.self).map(JSONValue.string) ?? .null
    }
}

/// Why a direct method call failed, with Azure's error codes.
public struct DirectMethodError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable {
        fileprivate enum Value: Sendable, Hashable { case invalid, payloadTooLarge, deviceNotOnline, timeout, throttled }
        fileprivate let value: Value
        /// 400 ArgumentInvalid (400004).
        public static let invalid = Code(value: .invalid)
        /// 413 MessageTooLarge (413001).
        public static let payloadTooLarge = Code(value: .payloadTooLarge)
        /// 404 DeviceNotOnline (404103): not connected or not subscribed to methods.
        public static let deviceNotOnline = Code(value: .deviceNotOnline)
        /// 504 GatewayTimeout (504101): no answer within the response timeout.
        public static let timeout = Code(value: .timeout)
        /// 429 ThrottlingException (429001): too many calls in flight.
        public static let throttled = Code(value: .throttled)
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
