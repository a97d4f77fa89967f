/// One message between a device and the cloud: device-to-cloud telemetry or a cloud-to-device message.
///
/// Three groups of fields, as Azure IoT Hub separates them:
/// - the **body**, opaque bytes;
/// - **user-settable system properties** (`$.mid`, `$.cid` … in an MQTT property bag, `iothub-messageid` …
///   in HTTPS headers) and **application properties**, which the sender chooses;
/// - **hub-stamped** fields (connection device and module, auth method, enqueued time, sequence number …),
///   which the hub sets on receipt and never takes from the sender, so they cannot be spoofed.
///
/// Property names and values are ASCII on the wire (protocol reference §2.3); the parsers in HubMessaging
/// enforce that, so `==` on these strings is byte equality.
public struct DeviceMessage: Hashable, Sendable {
    /// The payload.
    public var body: [UInt8]

    // MARK: user-settable system properties

    /// `$.mid` / `iothub-messageid`; at most 128 characters. The hub assigns one to C2D messages without.
    public var messageID: String?
    /// `$.cid` / `iothub-correlationid`.
    public var correlationID: String?
    /// `$.uid` / `iothub-userid`.
    public var userID: String?
    /// `$.ct` / `iothub-contenttype` (`application/json` makes the body routable).
    public var contentType: String?
    /// `$.ce` / `iothub-contentencoding` (`utf-8`, `utf-16`, `utf-32`).
    public var contentEncoding: String?
    /// `$.exp` / `iothub-expiry`: absolute expiry time. On a C2D message it overrides the queue's default
    /// time to live.
    public var absoluteExpiryTime: Timestamp?
    /// `$.to`: the destination; on C2D messages `/devices/{id}/messages/devicebound`.
    public var to: String?
    /// `$.on`: the output a module sent the message to (`send_message_to_output`).
    public var outputName: String?
    /// `$.ifid`: interface id (Azure's security agent sets it).
    public var interfaceID: String?
    /// `$.sub`: the Plug and Play component the telemetry belongs to (`dt-subject` in routing).
    public var component: String?
    /// `iothub-creation-time-utc`: when the sender says it created the message. Kept as sent: the hub
    /// only forwards it.
    public var creationTimeUTC: String?
    /// `iothub-ack`: which feedback the sender of a C2D message wants. Nil = not set (no feedback).
    public var ack: Ack?

    /// Application properties in the order received. A nil value is a bare key (`…&flag&…` in a
    /// property bag), distinct from an empty value (`flag=`).
    public var applicationProperties: [Property]

    // MARK: hub-stamped

    /// `iothub-connection-device-id`: the authenticated device that sent the message.
    public var connectionDeviceID: DeviceID?
    /// `iothub-connection-module-id`: the authenticated module that sent it, if any.
    public var connectionModuleID: ModuleID?
    /// The `type` of `iothub-connection-auth-method`.
    public var connectionAuthMethod: AuthMethod?
    /// `iothub-connection-auth-generation-id`: the sending identity's generation id.
    public var connectionAuthGenerationID: String?
    /// `iothub-enqueuedtime`: when the hub accepted the message.
    public var enqueuedTime: Timestamp?
    /// `iothub-message-source`: what produced the message (`Telemetry` for device telemetry).
    public var messageSource: Source?
    /// The hub's sequence number (of the C2D queue, or of the event log partition for telemetry).
    public var sequenceNumber: Int64?
    /// `mqtt-retain`: the device published with the RETAIN flag. Azure does not retain the message;
    /// it forwards the flag instead (protocol reference §2.3).
    public var mqttRetain: Bool

    public init(
        body: [UInt8] = [],
        messageID: String? = nil,
        correlationID: String? = nil,
        userID: String? = nil,
        contentType: String? = nil,
        contentEncoding: String? = nil,
        absoluteExpiryTime: Timestamp? = nil,
        to: String? = nil,
        outputName: String? = nil,
        interfaceID: String? = nil,
        component: String? = nil,
        creationTimeUTC: String? = nil,
        ack: Ack? = nil,
        applicationProperties: [Property] = [],
        connectionDeviceID: DeviceID? = nil,
        connectionModuleID: ModuleID? = nil,
        connectionAuthMethod: AuthMethod? = nil,
        connectionAuthGenerationID: String? = nil,
        enqueuedTime: Timestamp? = nil,
        messageSource: Source? = nil,
        sequenceNumber: Int64? = nil,
        mqttRetain: Bool = false
    ) {
        self.body = body
        self.messageID = messageID
        self.correlationID = correlationID
        self.userID = userID
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.absoluteExpiryTime = absoluteExpiryTime
        self.to = to
        self.outputName = outputName
        self.interfaceID = interfaceID
        self.component = component
        self.creationTimeUTC = creationTimeUTC
        self.ack = ack
        self.applicationProperties = applicationProperties
        self.connectionDeviceID = connectionDeviceID
        self.connectionModuleID = connectionModuleID
        self.connectionAuthMethod = connectionAuthMethod
        self.connectionAuthGenerationID = connectionAuthGenerationID
        self.enqueuedTime = enqueuedTime
        self.messageSource = messageSource
        self.sequenceNumber = sequenceNumber
        self.mqttRetain = mqttRetain
    }
}

extension DeviceMessage {
    /// One application property: a name and an optional value (nil = a bare key).
    public struct Property: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var value: String?

        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }

        public var description: String { value.map { "\(name)=\($0)" } ?? name }
    }

    /// `iothub-ack`: the feedback the sender of a cloud-to-device message asks for.
    public enum Ack: String, Hashable, Sendable, CaseIterable {
        /// `none`: no feedback (the same as not setting `iothub-ack`). Not called `none`, which would be
        /// ambiguous with `Optional.none` wherever an `Ack?` is expected.
        case noFeedback = "none"
        /// Feedback when the device completes the message.
        case positive
        /// Feedback when the message expires, is rejected, purged or exceeds its delivery count.
        case negative
        /// Both.
        case full

        /// Whether a successful completion produces feedback.
        public var wantsPositive: Bool { self == .positive || self == .full }
        /// Whether a failure (expiry, rejection, delivery count, purge) produces feedback.
        public var wantsNegative: Bool { self == .negative || self == .full }
    }

    /// How the sending identity authenticated (`type` of `iothub-connection-auth-method`).
    public enum AuthMethod: String, Hashable, Sendable, CaseIterable {
        /// A SAS token signed with a symmetric key.
        case sas
        /// An X.509 client certificate.
        case x509
    }

    /// `iothub-message-source`: what produced a message. A struct over the wire string so sources can be
    /// added without breaking `switch`es.
    public struct Source: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Device telemetry.
        public static let telemetry = Source(rawValue: "Telemetry")
        /// Twin change notifications.
        public static let twinChangeEvents = Source(rawValue: "twinChangeEvents")
        /// Identity created or deleted.
        public static let deviceLifecycleEvents = Source(rawValue: "deviceLifecycleEvents")
        /// Connected or disconnected.
        public static let deviceConnectionStateEvents = Source(rawValue: "deviceConnectionStateEvents")

        public var description: String { rawValue }
    }
}

extension DeviceMessage {
    /// The largest device-to-cloud message Azure accepts (256 KiB, counted as `sizeInBytes`).
    public static let maxTelemetrySize = 256 * 1024
    /// The largest cloud-to-device message Azure accepts (64 KiB, counted as `sizeInBytes`).
    public static let maxCloudToDeviceSize = 64 * 1024

    /// The message's size as Azure counts it against its limits: the body, plus the values of the
    /// user-settable system properties, plus the names and values of the application properties (UTF-8
    /// bytes; the expiry time counts as its 24-character ISO 8601 form). Hub-stamped fields do not count.
    public var sizeInBytes: Int {
        var size = body.count
        for value in [messageID, correlationID, userID, contentType, contentEncoding, to, outputName, interfaceID, component, creationTimeUTC] {
            size += value?.utf8.count ?? 0
        }
        if let absoluteExpiryTime { size += absoluteExpiryTime.iso8601.utf8.count }
        if let ack { size += ack.rawValue.utf8.count }
        for property in applicationProperties {
            size += property.name.utf8.count + (property.value?.utf8.count ?? 0)
        }
        return size
    }

    /// The first application property called `name` (exact, case-sensitive), if any.
    public func applicationProperty(_ name: String) -> Property? {
        applicationProperties.first { $0.name.utf8.elementsEqual(name.utf8) }
    }
}
