import HubStorage

/// The one error type of HubTwins: refused patches, etag mismatches, malformed queries and storage
/// failures behind the twin service.
///
/// `message` is safe to return to clients and to log: it says which rule was broken and where (the
/// section, a query's line and column), never a property value, and never more than a few characters
/// of a query.
public struct TwinError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A struct over a private enum so codes can be added without breaking callers'
    /// `switch`es.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalid, tooLarge, preconditionFailed, notFound, invalidQuery, unavailable
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A patch, replacement or request breaks a twin rule (key characters, depth, value type,
        /// reported properties in a service patch, a bad continuation token…).
        public static let invalid = Code(.invalid)
        /// A section would exceed its size limit (tags 8 KiB, desired and reported 32 KiB).
        public static let tooLarge = Code(.tooLarge)
        /// `If-Match` named an etag that is not the twin's current one.
        public static let preconditionFailed = Code(.preconditionFailed)
        /// The twin does not exist.
        public static let notFound = Code(.notFound)
        /// A query is malformed or uses something unsupported; `line` and `column` say where.
        public static let invalidQuery = Code(.invalidQuery)
        /// Storage failed (busy, disk full, damaged); `storageError` has the details.
        public static let unavailable = Code(.unavailable)

        /// Azure's error name (the `iothub-errorcode` header).
        public var azureName: String {
            switch base {
            case .invalid, .tooLarge, .invalidQuery: "ArgumentInvalid"
            case .preconditionFailed: "PreconditionFailed"
            case .notFound: "DeviceNotFound"
            case .unavailable: "ServiceUnavailable"
            }
        }

        /// Azure's six-digit error code (HTTP status × 1000 + detail). A section over its size limit is
        /// a 400 as for any other invalid twin, as Azure answers it.
        public var azureCode: Int {
            switch base {
            case .invalid, .tooLarge, .invalidQuery: 400004
            case .preconditionFailed: 412001
            case .notFound: 404001
            case .unavailable: 503001
            }
        }

        /// The HTTP status (and the MQTT twin response status).
        public var httpStatus: Int { azureCode / 1000 }

        public var description: String {
            switch base {
            case .invalid: "invalid"
            case .tooLarge: "too large"
            case .preconditionFailed: "precondition failed"
            case .notFound: "not found"
            case .invalidQuery: "invalid query"
            case .unavailable: "unavailable"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A safe explanation: no values, no keys, at most a few characters of a query.
    public var message: String
    /// For `.invalidQuery`: the 1-based line of the query text where the problem starts.
    public var line: Int?
    /// For `.invalidQuery`: the 1-based column (in Unicode scalars) where the problem starts.
    public var column: Int?
    /// For `.unavailable` (and a `.notFound` from the store): the storage failure behind it.
    public var storageError: StorageError?

    public init(_ code: Code, _ message: String, line: Int? = nil, column: Int? = nil, storageError: StorageError? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.storageError = storageError
    }

    /// A storage failure seen while doing `operation`.
    static func storage(_ error: StorageError, while operation: String) -> TwinError {
        TwinError(.unavailable, "\(operation): \(error)", storageError: error)
    }

    public var description: String {
        if let line, let column { return "twin \(code) at line \(line), column \(column): \(message)" }
        return "twin \(code): \(message)"
    }
}
