import HubStorage

/// The one error type of HubMessaging: malformed topics, property bags and headers, refused
/// cloud-to-device operations, and storage failures underneath them.
///
/// `azureErrorCode` and `httpStatus` give the HTTP layer what Azure IoT Hub answers (protocol reference
/// §4.5); the MQTT layer closes the connection on a malformed topic or bag (§2.8). The `message` never
/// contains property names or values, payloads, lock tokens or message ids: it may be logged and shown.
public struct MessagingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A struct over a private enum so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case malformedTopic, malformedEscape, nonASCIIProperty, emptyPropertyName, invalidSystemProperty
            case invalidArgument, messageTooLarge, queueFull, lockLost, messageNotFound, storage
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The topic is not a telemetry topic (`devices/{d}[/modules/{m}]/messages/events[/{bag}]`) or
        /// names an invalid device or module id.
        public static let malformedTopic = Code(.malformedTopic)
        /// A `%` in a property bag is not followed by two hex digits.
        public static let malformedEscape = Code(.malformedEscape)
        /// A property name or value is not ASCII (§2.3).
        public static let nonASCIIProperty = Code(.nonASCIIProperty)
        /// A property has an empty name (`=value`, or a header `iothub-app-` with nothing after it).
        public static let emptyPropertyName = Code(.emptyPropertyName)
        /// A system property has a value the hub cannot use (`iothub-ack=sometimes`, an expiry time that
        /// is not ISO 8601).
        public static let invalidSystemProperty = Code(.invalidSystemProperty)
        /// A request argument is out of range (a C2D expiry outside 1 min…48 h, an application property
        /// named like a system property). Azure: 400004 ArgumentInvalid.
        public static let invalidArgument = Code(.invalidArgument)
        /// The message is larger than the limit. Azure: 413001 MessageTooLarge.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// The device's cloud-to-device queue is full. Azure: 403004 DeviceMaximumQueueDepthExceeded.
        public static let queueFull = Code(.queueFull)
        /// The lock token's lock has expired (the message went back to the queue, or to another
        /// delivery). Azure: 412002 DeviceMessageLockLost.
        public static let lockLost = Code(.lockLost)
        /// No message or feedback batch holds this lock token (never issued, or already settled).
        /// HTTP 404; Azure's error-code enum has no number for it.
        public static let messageNotFound = Code(.messageNotFound)
        /// The cloud-to-device store failed; the operation did not happen. `storageCode` says how.
        public static let storage = Code(.storage)

        public var description: String {
            switch base {
            case .malformedTopic: "malformed topic"
            case .malformedEscape: "malformed percent escape"
            case .nonASCIIProperty: "non-ASCII property"
            case .emptyPropertyName: "empty property name"
            case .invalidSystemProperty: "invalid system property"
            case .invalidArgument: "invalid argument"
            case .messageTooLarge: "message too large"
            case .queueFull: "queue full"
            case .lockLost: "lock lost"
            case .messageNotFound: "message not found"
            case .storage: "storage"
            }
        }

        /// Azure IoT Hub's numeric error code for the HTTP error body (`errorCode`), when there is one.
        public var azureErrorCode: Int? {
            switch base {
            case .malformedTopic, .malformedEscape, .nonASCIIProperty, .emptyPropertyName, .invalidSystemProperty,
                .invalidArgument:
                400004
            case .messageTooLarge: 413001
            case .queueFull: 403004
            case .lockLost: 412002
            case .messageNotFound: nil
            case .storage: 503001
            }
        }

        /// Azure IoT Hub's error name for the `iothub-errorcode` header (`DeviceMessageNotFound` is
        /// Meridian's: Azure's enum has no name for it).
        public var azureErrorName: String {
            switch base {
            case .malformedTopic, .malformedEscape, .nonASCIIProperty, .emptyPropertyName, .invalidSystemProperty,
                .invalidArgument:
                "ArgumentInvalid"
            case .messageTooLarge: "MessageTooLarge"
            case .queueFull: "DeviceMaximumQueueDepthExceeded"
            case .lockLost: "DeviceMessageLockLost"
            case .messageNotFound: "DeviceMessageNotFound"
            case .storage: "ServiceUnavailable"
            }
        }

        /// The HTTP status Azure answers with.
        public var httpStatus: Int {
            switch base {
            case .messageNotFound: 404
            default: (azureErrorCode ?? 500_000) / 1000
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A safe, human-readable explanation.
    public var message: String
    /// For `.storage`: the store's error code (`.diskFull`, `.unavailable` …).
    public var storageCode: StorageError.Code?

    public init(_ code: Code, _ message: String, storageCode: StorageError.Code? = nil) {
        self.code = code
        self.message = message
        self.storageCode = storageCode
    }

    /// Wraps a store failure; the store's message is already safe to log.
    init(_ error: StorageError) {
        self.init(.storage, error.message, storageCode: error.code)
    }

    public var description: String { "messaging \(code): \(message)" }
}
