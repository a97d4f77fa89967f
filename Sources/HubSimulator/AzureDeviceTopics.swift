import HubCore

/// The Azure IoT Hub device topics a simulated drone speaks (protocol reference §2.2), built and parsed
/// without I/O.
public enum AzureDeviceTopics {
    /// What the hub sent a device.
    public enum Incoming: Sendable, Hashable {
        /// A cloud-to-device message.
        case cloudToDevice
        /// A direct method call: its name and request id.
        case method(name: String, requestID: String)
        /// An answer to a twin request (GET or reported PATCH): HTTP-like status and request id.
        case twinResponse(status: Int, requestID: String)
        /// A desired-properties patch and its version.
        case desiredPatch(version: Int?)
        /// A topic this client does not know.
        case unknown
    }

    /// The subscriptions a drone makes, one per SUBSCRIBE packet, as the Azure SDKs do.
    public static func subscriptions(deviceID: String) -> [String] {
        ["devices/\(deviceID)/messages/devicebound/#", "$iothub/methods/POST/#", "$iothub/twin/PATCH/properties/desired/#", "$iothub/twin/res/#"]
    }

    /// Telemetry with a JSON body: `devices/{id}/messages/events/$.ct=application%2Fjson&$.ce=utf-8`
    /// (content type and encoding let routing queries read the body).
    public static func telemetry(deviceID: String) -> String {
        "devices/\(deviceID)/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8"
    }

    /// The answer to a direct method.
    public static func methodResponse(status: Int, requestID: String) -> String {
        "$iothub/methods/res/\(status)/?$rid=\(requestID)"
    }

    /// A reported-properties patch.
    public static func reportedPatch(requestID: String) -> String {
        "$iothub/twin/PATCH/properties/reported/?$rid=\(requestID)"
    }

    /// A request for the whole twin.
    public static func twinGet(requestID: String) -> String {
        "$iothub/twin/GET/?$rid=\(requestID)"
    }

    /// Classifies a topic the hub published to `deviceID`.
    public static func parse(_ topic: String, deviceID: String) -> Incoming {
        if topic.hasPrefix("devices/\(deviceID)/messages/devicebound/") { return .cloudToDevice }
        if topic.hasPrefix("$iothub/methods/POST/") {
            let rest = topic.dropFirst("$iothub/methods/POST/".count)
            guard let slash = rest.firstIndex(of: "/"), let rid = query(rest[slash...], "$rid") else { return .unknown }
            // Some clients URL-quote method names; a malformed escape is taken as written.
            let raw = rest[..<slash]
            return .method(name: PercentEncoding.decode(raw.utf8) ?? String(raw), requestID: rid)
        }
        if topic.hasPrefix("$iothub/twin/res/") {
            let rest = topic.dropFirst("$iothub/twin/res/".count)
            guard let slash = rest.firstIndex(of: "/"), let status = Int(rest[..<slash]), let rid = query(rest[slash...], "$rid") else { return .unknown }
            return .twinResponse(status: status, requestID: rid)
        }
        if topic.hasPrefix("$iothub/twin/PATCH/properties/desired/") {
            return .desiredPatch(version: query(topic.dropFirst("$iothub/twin/PATCH/properties/desired/".count), "$version").flatMap { Int($0) })
        }
        return .unknown
    }

    /// The value of `key` in a `/?k=v&k2=v2` tail.
    static func query(_ tail: Substring, _ key: String) -> String? {
        guard let mark = tail.firstIndex(of: "?") else { return nil }
        for pair in tail[tail.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == key { return String(parts[1]) }
        }
        return nil
    }
}
