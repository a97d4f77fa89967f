import HubStorage

/// The one error type of the registry. `code` maps one-to-one onto Azure's error names and HTTP status
/// (see `azureErrorCode` / `httpStatus`); `message` is safe to return to clients and to log (it never
/// contains keys or tokens).
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case deviceNotFound, moduleNotFound, deviceAlreadyExists, moduleAlreadyExists
            case preconditionFailed, invalidArgument, certificateNotFound, certificateAlreadyExists
            case userNotFound, userAlreadyExists, policyNotFound, tooManyDevices, unavailable, serverError
        }
        let base: Base
        public static let deviceNotFound = Code(base: .deviceNotFound)
        public static let moduleNotFound = Code(base: .moduleNotFound)
        public static let deviceAlreadyExists = Code(base: .deviceAlreadyExists)
        public static let moduleAlreadyExists = Code(base: .moduleAlreadyExists)
        /// `If-Match` did not match the current etag.
        public static let preconditionFailed = Code(base: .preconditionFailed)
        /// Bad input: identifier, key, status reason, body shape…
        public static let invalidArgument = Code(base: .invalidArgument)
        public static let certificateNotFound = Code(base: .certificateNotFound)
        public static let certificateAlreadyExists = Code(base: .certificateAlreadyExists)
        public static let userNotFound = Code(base: .userNotFound)
        public static let userAlreadyExists = Code(base: .userAlreadyExists)
        public static let policyNotFound = Code(base: .policyNotFound)
        /// A bulk request over 100 entries.
        public static let tooManyDevices = Code(base: .tooManyDevices)
        /// Storage failed (disk full, busy, I/O): retry later.
        public static let unavailable = Code(base: .unavailable)
        /// Stored data cannot be read (damaged, or keys sealed under a master key this hub was not given):
        /// retrying does not help; an operator must act.
        public static let serverError = Code(base: .serverError)

        /// Azure's error name (the `iothub-errorcode` header and bulk `errorCode`).
        public var azureName: String {
            switch base {
            case .deviceNotFound: "DeviceNotFound"
            case .moduleNotFound: "ModuleNotFound"
            case .deviceAlreadyExists: "DeviceAlreadyExists"
            case .moduleAlreadyExists: "ModuleAlreadyExistsOnDevice"
            case .preconditionFailed: "PreconditionFailed"
            case .invalidArgument: "ArgumentInvalid"
            case .certificateNotFound: "CertificateNotFound"
            case .certificateAlreadyExists: "CertificateAlreadyExists"
            case .userNotFound: "UserNotFound"
            case .userAlreadyExists: "UserAlreadyExists"
            case .policyNotFound: "IotHubNotFound"
            case .tooManyDevices: "TooManyDevices"
            case .unavailable: "ServiceUnavailable"
            case .serverError: "ServerError"
            }
        }

        /// Azure's six-digit error code (HTTP status × 1000 + detail).
        public var azureCode: Int {
            switch base {
            case .deviceNotFound: 404001
            case .moduleNotFound: 404010
            case .deviceAlreadyExists: 409001
            case .moduleAlreadyExists: 409301
            case .preconditionFailed: 412001
            case .invalidArgument: 400004
            case .certificateNotFound: 404022
            case .certificateAlreadyExists: 409022
            case .userNotFound: 404023
            case .userAlreadyExists: 409023
            case .policyNotFound: 404020
            case .tooManyDevices: 413002
            case .unavailable: 503001
            case .serverError: 500001
            }
        }

        /// The HTTP status.
        public var httpStatus: Int { azureCode / 1000 }

        public var description: String { azureName }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.azureName): \(message)" }
}
