import HubCore

/// Where the device layers hand accepted device-to-cloud messages: the event log (durable) in the hub,
/// `InMemoryTelemetrySink` in tests and development.
///
/// The append is callback-based so an event loop can wait for durability without creating a `Task` per
/// message: the MQTT layer sends PUBACK (the HTTP layer its 204) from `completion`, which runs exactly
/// once, when the message is durable or has failed. It may run on any thread, possibly before `append`
/// returns; hop back to the event loop inside it.
public protocol TelemetrySink: Sendable {
    /// Appends `message` (stamped, size-checked) under `partitionKey` (the device id, or `device/module`,
    /// so one identity's messages stay in order) and calls `completion` once it is durable.
    func append(
        _ message: DeviceMessage, partitionKey: String,
        completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void)
}

extension TelemetrySink {
    /// `append` for async callers.
    public func append(_ message: DeviceMessage, partitionKey: String) async throws(TelemetrySinkError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, TelemetrySinkError>, Never>) in
            append(message, partitionKey: partitionKey) { continuation.resume(returning: $0) }
        }
        try result.get()
    }
}

/// Why a `TelemetrySink` could not take a message.
///
/// A separate type from `MessagingError` because it is the contract with sink implementations in other
/// modules (the event log), which need only these few codes. The message is safe to log: never payloads
/// or property values.
public struct TelemetrySinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A struct over a private enum so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case unavailable, diskFull, overloaded, closed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The sink cannot write right now (I/O error); retrying later may work.
        public static let unavailable = Code(.unavailable)
        /// The disk is full: nothing more can be stored until space is freed.
        public static let diskFull = Code(.diskFull)
        /// Too many appends are waiting; the sender should slow down (MQTT: withhold the PUBACK; HTTP: 429).
        public static let overloaded = Code(.overloaded)
        /// The sink is shutting down.
        public static let closed = Code(.closed)

        public var description: String {
            switch base {
            case .unavailable: "unavailable"
            case .diskFull: "disk full"
            case .overloaded: "overloaded"
            case .closed: "closed"
            }
        }
    }

    public var code: Code
    /// A safe, human-readable explanation.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "telemetry sink \(code): \(message)" }
}
