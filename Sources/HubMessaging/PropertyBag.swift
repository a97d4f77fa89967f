import HubCore

/// The property bag at the end of an MQTT telemetry or cloud-to-device topic (protocol reference §2.3,
/// §2.4): `key=value` pairs joined by `&`, keys and values percent-encoded.
///
/// Decoding splits on `&`, then on the first `=`; a pair without `=` is a bare key (nil value), `key=` an
/// empty value. Keys and values are percent-decoded (so `%24.mid` and `$.mid` are the same key) and must
/// be ASCII. System keys fill the message's system properties, every other key becomes an application
/// property, in order. Encoding writes the C2D form the real hub sends.
public enum PropertyBag {
    /// Decodes a bag into a message carrying its properties (empty body, nothing hub-stamped).
    ///
    /// Empty pairs (`a=1&&b=2`, a trailing `&`) are skipped. A later duplicate of a system key wins; a
    /// bare system key (`…&$.mid&…`) sets nothing. `$.cdid` and `$.cmid` are dropped: the hub stamps the
    /// connection's identity itself, a device must not be able to claim another one.
    public static func decode(_ bag: Substring) throws(MessagingError) -> DeviceMessage {
        var message = DeviceMessage()
        for pair in bag.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let rawKey: Substring.UTF8View
            let rawValue: Substring.UTF8View?
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                rawKey = pair[pair.startIndex..<equals]
                rawValue = pair[pair.index(after: equals)...]
            } else {
                rawKey = pair
                rawValue = nil
            }
            let key = try decodeComponent(rawKey)
            guard !key.isEmpty else { throw MessagingError(.emptyPropertyName, "a property bag has a property without a name") }
            let value = try rawValue.map { (raw) throws(MessagingError) in try decodeComponent(raw) }
            if let system = SystemProperty(bagKey: key) {
                if let value { try system.set(value, on: &message) }
            } else if !droppedKeys.contains(key) {
                message.applicationProperties.append(DeviceMessage.Property(key, value))
            }
        }
        return message
    }

    /// `decode(_:)` for a whole string.
    public static func decode(_ bag: String) throws(MessagingError) -> DeviceMessage {
        try decode(bag[...])
    }

    /// Encodes the properties of a cloud-to-device message as the real hub does: the system properties
    /// that are set, in the order `$.mid, $.to, $.ct, $.ce, $.cid, $.uid, $.exp, iothub-ack`, then the
    /// application properties in their order. Everything outside the RFC 3986 unreserved characters is
    /// percent-encoded, keys included (`%24.mid`, `%2F` for every `/`). A nil value is written as the bare
    /// key, an empty one as `key=`.
    public static func encodeCloudToDevice(_ message: DeviceMessage) -> String {
        encode(message, systemProperties: SystemProperty.cloudToDeviceOrder)
    }

    /// Encodes the properties of a device-to-cloud message as a device would write them on its telemetry
    /// topic: the sender-set system properties that are set (`$.mid, $.cid, $.uid, $.ct, $.ce, $.exp,
    /// iothub-creation-time-utc, $.on, $.ifid, $.sub`), then the application properties in their order;
    /// encoded like `encodeCloudToDevice`. Hub stamps are not part of a bag. For telemetry that arrived
    /// over HTTPS and is routed into the broker's topic space (`devices/{d}/messages/events/{bag}`).
    public static func encodeTelemetry(_ message: DeviceMessage) -> String {
        encode(message, systemProperties: SystemProperty.telemetryOrder)
    }

    private static func encode(_ message: DeviceMessage, systemProperties: [SystemProperty]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        func append(_ key: String, _ value: String?) {
            if !out.isEmpty { out.append(UInt8(ascii: "&")) }
            PercentEncoding.encode(key, into: &out)
            if let value {
                out.append(UInt8(ascii: "="))
                PercentEncoding.encode(value, into: &out)
            }
        }
        for system in systemProperties {
            if let value = system.get(message) { append(system.bagKey, value) }
        }
        for property in message.applicationProperties { append(property.name, property.value) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `name` is a key the bag decoder treats specially (a system key or a dropped one), so an
    /// application property of that name would not survive a trip through a bag.
    public static func isReservedKey(_ name: String) -> Bool {
        SystemProperty(bagKey: name) != nil || droppedKeys.contains(name)
    }

    /// Hub-stamped keys a sender must not set (connection device and module of Edge-routed messages).
    static let droppedKeys: Set<String> = ["$.cdid", "$.cmid"]

    /// Percent-decodes one key or value and checks it is ASCII.
    private static func decodeComponent(_ raw: Substring.UTF8View) throws(MessagingError) -> String {
        guard let bytes = PercentEncoding.decodeBytes(raw) else {
            throw MessagingError(.malformedEscape, "a property bag has a '%' not followed by two hex digits")
        }
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            throw MessagingError(.nonASCIIProperty, "property names and values must be ASCII")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The user-settable system properties as they appear in a property bag.
enum SystemProperty: CaseIterable {
    case messageID, to, contentType, contentEncoding, correlationID, userID, absoluteExpiryTime, ack
    case outputName, interfaceID, component, creationTimeUTC

    /// The order the real hub writes a C2D bag in (protocol reference §2.4).
    static let cloudToDeviceOrder: [SystemProperty] = [
        .messageID, .to, .contentType, .contentEncoding, .correlationID, .userID, .absoluteExpiryTime, .ack,
    ]

    /// The system properties a device may set on telemetry, in the order `encodeTelemetry` writes them.
    static let telemetryOrder: [SystemProperty] = [
        .messageID, .correlationID, .userID, .contentType, .contentEncoding, .absoluteExpiryTime, .creationTimeUTC,
        .outputName, .interfaceID, .component,
    ]

    /// The decoded key.
    var bagKey: String {
        switch self {
        case .messageID: "$.mid"
        case .to: "$.to"
        case .contentType: "$.ct"
        case .contentEncoding: "$.ce"
        case .correlationID: "$.cid"
        case .userID: "$.uid"
        case .absoluteExpiryTime: "$.exp"
        case .ack: "iothub-ack"
        case .outputName: "$.on"
        case .interfaceID: "$.ifid"
        case .component: "$.sub"
        case .creationTimeUTC: "iothub-creation-time-utc"
        }
    }

    private static let byKey: [String: SystemProperty] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.bagKey, $0) })

    init?(bagKey: String) {
        guard let property = Self.byKey[bagKey] else { return nil }
        self = property
    }

    /// The property's value on `message` in its wire form, nil when unset.
    func get(_ message: DeviceMessage) -> String? {
        switch self {
        case .messageID: message.messageID
        case .to: message.to
        case .contentType: message.contentType
        case .contentEncoding: message.contentEncoding
        case .correlationID: message.correlationID
        case .userID: message.userID
        case .absoluteExpiryTime: message.absoluteExpiryTime?.iso8601
        case .ack: message.ack?.rawValue
        case .outputName: message.outputName
        case .interfaceID: message.interfaceID
        case .component: message.component
        case .creationTimeUTC: message.creationTimeUTC
        }
    }

    /// Sets the property from its wire form; `.invalidSystemProperty` when an expiry is not ISO 8601 or
    /// an ack mode is unknown.
    func set(_ value: String, on message: inout DeviceMessage) throws(MessagingError) {
        switch self {
        case .messageID: message.messageID = value
        case .to: message.to = value
        case .contentType: message.contentType = value
        case .contentEncoding: message.contentEncoding = value
        case .correlationID: message.correlationID = value
        case .userID: message.userID = value
        case .absoluteExpiryTime:
            guard let time = Timestamp(iso8601: value) else {
                throw MessagingError(.invalidSystemProperty, "the expiry time is not an ISO 8601 time")
            }
            message.absoluteExpiryTime = time
        case .ack:
            guard let ack = DeviceMessage.Ack(rawValue: value) else {
                throw MessagingError(.invalidSystemProperty, "iothub-ack must be none, positive, negative or full")
            }
            message.ack = ack
        case .outputName: message.outputName = value
        case .interfaceID: message.interfaceID = value
        case .component: message.component = value
        case .creationTimeUTC: message.creationTimeUTC = value
        }
    }
}
