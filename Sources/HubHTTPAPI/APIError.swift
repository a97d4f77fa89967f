import HubRegistry

/// The one error type of the HTTP API: an HTTP status with Azure IoT Hub's error name and six-digit code
/// (protocol reference §4.5), and a message that is safe to send and to log.
///
/// Messages never contain keys, tokens, signatures, passwords or request content; at most an identifier
/// the route already names, or a field name.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as Azure names it. A struct over a private table so codes can be added freely.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// Azure's name: the `iothub-errorcode` header.
        public let name: String
        /// Azure's six-digit code: HTTP status × 1000 + detail.
        public let number: Int
        /// The HTTP status (Azure's number ÷ 1000, except for `forbidden`).
        public let status: Int

        init(_ name: String, _ number: Int, status: Int? = nil) {
            self.name = name
            self.number = number
            self.status = status ?? number / 1000
        }

        /// Bad input of any kind: JSON, field types, unknown fields, identifiers, keys, query values.
        public static let argumentInvalid = Code("ArgumentInvalid", 400004)
        /// A required body or field is missing.
        public static let argumentNull = Code("ArgumentNull", 400005)
        /// No `Authorization` header, or a token that is malformed, expired or wrongly signed.
        public static let unauthorizedAccess = Code("IotHubUnauthorizedAccess", 401002)
        /// A valid token of a policy that lacks the route's rights: HTTP 403 (test plan S7, H20). Azure's
        /// code list has no 403 entry for this, so the name and number are Azure's `IotHubUnauthorized`
        /// (401003), the code for an authenticated caller that is not allowed the operation.
        public static let forbidden = Code("IotHubUnauthorized", 401003, status: 403)
        /// No route at this path.
        public static let notFound = Code("NotFound", 404000)
        /// A route exists at this path, but not for this method.
        public static let methodNotAllowed = Code("MethodNotAllowed", 405000)
        /// Headers over the parser's limits (count, one field, all together).
        public static let headersTooLarge = Code("RequestHeaderFieldsTooLarge", 431000)
        /// The body is larger than the limit.
        public static let messageTooLarge = Code("MessageTooLarge", 413001)
        /// A body that is not `application/json`.
        public static let unsupportedMediaType = Code("UnsupportedMediaType", 415000)
        /// The hub-wide registry operation rate is exceeded.
        public static let throttled = Code("ThrottlingException", 429001)
        /// An MQTT-over-WebSocket path asked for without an upgrade.
        public static let upgradeRequired = Code("UpgradeRequired", 426000)
        /// A bug: should never be sent.
        public static let serverError = Code("ServerError", 500001)
        /// A direct method's device is not connected or not subscribed to methods.
        public static let deviceNotOnline = Code("DeviceNotOnline", 404103)
        /// A direct method's device did not answer in time.
        public static let gatewayTimeout = Code("GatewayTimeout", 504101)
        /// The feature is not running in this hub process.
        public static let serviceUnavailable = Code("ServiceUnavailable", 503001)

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// Extra response headers (`Retry-After`, `Allow`).
    public var headers: [(String, String)] = []

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name) (\(code.number)): \(message)" }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    static func invalid(_ message: String) -> APIError { APIError(.argumentInvalid, message) }
}

extension APIError {
    /// The registry's errors carry Azure's name, number and status already.
    init(_ error: RegistryError) {
        self.init(Code(error.code.azureName, error.code.azureCode), error.message)
    }
}
