import HubCore

/// The topics an Azure device or module identity may use (protocol reference §2.2): publish telemetry
/// on its own `devices/{d}[/modules/{m}]/messages/events/…`, twin requests and method responses under
/// `$iothub/…`; subscribe to its own C2D (`…/messages/devicebound/#`), `$iothub/twin/res/#`,
/// `$iothub/twin/PATCH/properties/desired/#` and `$iothub/methods/POST/#`. Nothing else.
///
/// Ids in topics are compared byte for byte with the identity: the level must be exactly the id
/// (device ids may contain `.`, `$`, `%`…; no decoding, no case folding).
///
/// Azure allows `+` and `#` in ids, but in MQTT they are wildcards: the C2D filter of a device named
/// `+` would be `devices/+/messages/devicebound/#`, which matches *every* device's C2D topic. So no
/// topic or filter containing `+` or `#` outside the `#` that ends an allowed filter is ever granted;
/// such identities must get C2D some other way than a wildcard-capable subscription.
public struct DeviceTopicRights: Sendable, Hashable {
    public var identity: IdentityID
    public init(identity: IdentityID) { self.identity = identity }

    /// Publish is allowed on exactly:
    /// - `devices/{d}/messages/events` or `devices/{d}/messages/events/{property bag}` (a module:
    ///   `devices/{d}/modules/{m}/messages/events[/{bag}]`); the bag is anything without `+`, `#`;
    /// - `$iothub/twin/GET/?{query}` and `$iothub/twin/PATCH/properties/reported/?{query}`;
    /// - `$iothub/methods/res/{status}/?{query}`, `{status}` an optionally negative decimal of up to
    ///   10 digits;
    /// where `{query}` has a non-empty `$rid` parameter and no `/`. No topic with NUL, `+` or `#`
    /// (not valid topic names [MQTT-4.7.1-1]), so an identity whose id has `+` or `#` publishes
    /// `$iothub` requests only.
    public func mayPublish(_ topic: String) -> Bool {
        let bytes = topic.utf8
        guard !bytes.contains(where: { $0 == 0 || $0 == 0x2B || $0 == 0x23 }) else { return false }
        if let rest = bytes.dropPrefix(ownPrefix.utf8), let rest = rest.dropPrefix("messages/events".utf8) {
            return rest.isEmpty || rest.first == UInt8(ascii: "/")
        }
        if let query = bytes.dropPrefix("$iothub/twin/GET/?".utf8) {
            return Self.isRequestQuery(query)
        }
        if let query = bytes.dropPrefix("$iothub/twin/PATCH/properties/reported/?".utf8) {
            return Self.isRequestQuery(query)
        }
        if let rest = bytes.dropPrefix("$iothub/methods/res/".utf8), let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
            let status = rest[..<slash]
            guard let query = rest[slash...].dropPrefix("/?".utf8) else { return false }
            return Self.isStatus(status) && Self.isRequestQuery(query)
        }
        return false
    }

    /// `filter` without any `$share/` prefix; shared subscriptions are never granted to devices.
    ///
    /// Exactly these filters, nothing narrower or wider: `devices/{d}/messages/devicebound/#` (devices
    /// only: cloud modules get no C2D, and `…/modules/{m}/inputs/#` belongs to IoT Edge),
    /// `$iothub/twin/res/#`, `$iothub/twin/PATCH/properties/desired/#`, `$iothub/methods/POST/#`.
    /// A device whose id contains `+` or `#` gets no C2D filter (see the type's note).
    public func maySubscribe(_ filter: String) -> Bool {
        let device = identity.device.rawValue
        if identity.module == nil, !device.utf8.contains(where: { $0 == 0x2B || $0 == 0x23 }),
            filter.utf8Equals("devices/\(device)/messages/devicebound/#")
        {
            return true
        }
        return Self.sharedFilters.contains { filter.utf8Equals($0) }
    }

    /// The `$iothub` filters every identity may subscribe to.
    static let sharedFilters = ["$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#"]

    /// `devices/{d}/` or `devices/{d}/modules/{m}/`.
    private var ownPrefix: String {
        if let module = identity.module {
            return "devices/\(identity.device.rawValue)/modules/\(module.rawValue)/"
        }
        return "devices/\(identity.device.rawValue)/"
    }

    /// `k=v&…` with a non-empty `$rid` and no `/`.
    static func isRequestQuery(_ query: Substring.UTF8View) -> Bool {
        guard !query.contains(UInt8(ascii: "/")) else { return false }
        return query.split(separator: UInt8(ascii: "&")).contains { parameter in
            guard let value = parameter.dropPrefix("$rid=".utf8) else { return false }
            return !value.isEmpty
        }
    }

    /// `-?[0-9]{1,10}`: the status a device answers a method with (any integer it chooses).
    static func isStatus(_ text: Substring.UTF8View) -> Bool {
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text[...]
        return (1...10).contains(digits.count) && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

extension Collection where Element == UInt8 {
    /// The rest after `prefix`, or nil when the bytes do not start with it.
    func dropPrefix<Prefix: Collection<UInt8>>(_ prefix: Prefix) -> SubSequence? {
        guard starts(with: prefix) else { return nil }
        return dropFirst(prefix.count)
    }
}
