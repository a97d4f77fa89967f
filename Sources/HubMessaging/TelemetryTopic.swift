import HubCore

/// A device-to-cloud telemetry topic, `devices/{d}/messages/events/{bag}` or
/// `devices/{d}/modules/{m}/messages/events/{bag}` (protocol reference §2.2, §2.7).
///
/// The bag may be empty (`…/events/`) or absent (`…/events`). Device and module ids are not
/// percent-encoded in topics (the SDKs write them raw), so they are validated as they stand. Checking
/// that the identity is the connection's own is the caller's job (the topic ACL).
public struct TelemetryTopic: Hashable, Sendable {
    /// The device or module the topic names.
    public var identity: IdentityID
    /// The bag's properties on an otherwise empty message: set the body and stamp it before use.
    public var message: DeviceMessage

    /// Parses a telemetry topic and decodes its property bag. `.malformedTopic` when the topic has
    /// another shape or an invalid id; the bag's own errors otherwise.
    public init(parsing topic: String) throws(MessagingError) {
        guard let rest = topic.utf8.dropPrefix("devices/") else { throw Self.malformed }
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { throw Self.malformed }
        guard let device = DeviceID(rawValue: String(Substring(rest[rest.startIndex..<slash]))) else { throw Self.malformed }
        var tail = rest[rest.index(after: slash)...]
        var module: ModuleID?
        if let afterModules = tail.dropPrefix("modules/") {
            guard let moduleEnd = afterModules.firstIndex(of: UInt8(ascii: "/")),
                let id = ModuleID(rawValue: String(Substring(afterModules[afterModules.startIndex..<moduleEnd])))
            else { throw Self.malformed }
            module = id
            tail = afterModules[afterModules.index(after: moduleEnd)...]
        }
        guard let afterEvents = tail.dropPrefix("messages/events") else { throw Self.malformed }
        let bag: Substring
        if afterEvents.isEmpty {
            bag = ""
        } else if let afterSlash = afterEvents.dropPrefix("/") {
            bag = Substring(afterSlash)
        } else {
            throw Self.malformed
        }
        identity = IdentityID(device: device, module: module)
        message = try PropertyBag.decode(bag)
    }

    private static let malformed = MessagingError(
        .malformedTopic, "not a telemetry topic (devices/{id}[/modules/{id}]/messages/events[/{properties}])")
}

/// Topics of cloud-to-device delivery over MQTT (protocol reference §2.4).
public enum CloudToDeviceTopic {
    /// The filter a device subscribes to: `devices/{id}/messages/devicebound/#`.
    public static func subscriptionFilter(for device: DeviceID) -> String {
        "devices/\(device.rawValue)/messages/devicebound/#"
    }

    /// The topic a C2D message is published on: `devices/{id}/messages/devicebound/{bag}`, with the bag
    /// from `PropertyBag.encodeCloudToDevice` (so splitting the topic on `/` puts the whole bag in the
    /// fifth level, as the Python SDK expects).
    public static func topic(for device: DeviceID, message: DeviceMessage) -> String {
        "devices/\(device.rawValue)/messages/devicebound/" + PropertyBag.encodeCloudToDevice(message)
    }

    /// `/devices/{id}/messages/devicebound`: the `$.to` of a C2D message.
    public static func address(of device: DeviceID) -> String {
        "/devices/\(device.rawValue)/messages/devicebound"
    }
}

extension Substring.UTF8View {
    /// The rest after `prefix`, or nil when the view does not start with it.
    fileprivate func dropPrefix(_ prefix: String) -> Substring.UTF8View? {
        guard self.starts(with: prefix.utf8) else { return nil }
        return self.dropFirst(prefix.utf8.count)
    }
}

extension String.UTF8View {
    fileprivate func dropPrefix(_ prefix: String) -> Substring.UTF8View? {
        self[...].dropPrefix(prefix)
    }
}
