/// The topics an Azure device or module publishes to, recognised from the raw topic name
/// (protocol reference §2.2). Pure; no decoding beyond splitting the request query.
public enum DeviceRequestTopic: Sendable, Equatable {
    /// `devices/{d}[/modules/{m}]/messages/events[/{bag}]`: telemetry with its raw property bag
    /// (empty when absent). The ids are as written in the topic; the caller checks they are the
    /// connection's own (the topic rights already did).
    case telemetry(propertyBag: Substring)
    /// `$iothub/twin/GET/?$rid={rid}`.
    case twinGet(requestID: String)
    /// `$iothub/twin/PATCH/properties/reported/?$rid={rid}[&$version={n}]` (the version is ignored).
    case twinReportedPatch(requestID: String)
    /// `$iothub/methods/res/{status}/?$rid={rid}`.
    case methodResponse(status: Int, requestID: String)
    /// Anything else: Azure closes the connection (§2.8).
    case unknown

    public init(topic: String, identityPrefix: String) {
        if topic.hasPrefix(identityPrefix) {
            let rest = topic.utf8.dropFirst(identityPrefix.utf8.count)
            let events = "messages/events".utf8
            guard rest.starts(with: events) else { self = .unknown; return }
            let after = rest.dropFirst(events.count)
            if after.isEmpty {
                self = .telemetry(propertyBag: "")
            } else if after.first == UInt8(ascii: "/") {
                self = .telemetry(propertyBag: Substring(after.dropFirst()))
            } else {
                self = .unknown
            }
            return
        }
        guard topic.hasPrefix("$iothub/"), let split = Self.querySeparator(in: topic) else { self = .unknown; return }
        let path = topic[topic.startIndex..<split]
        guard let query = Self.query(topic[topic.index(split, offsetBy: 2)...]), let rid = query["$rid"], !rid.isEmpty else {
            self = .unknown
            return
        }
        switch path {
        case "$iothub/twin/GET":
            self = .twinGet(requestID: rid)
        case "$iothub/twin/PATCH/properties/reported":
            self = .twinReportedPatch(requestID: rid)
        default:
            let prefix = "$iothub/methods/res/"
            if path.hasPrefix(prefix), let status = Int(path.dropFirst(prefix.count)), abs(status) <= 9_999_999_999 {
                self = .methodResponse(status: status, requestID: rid)
            } else {
                self = .unknown
            }
        }
    }

    /// `devices/{d}/` or `devices/{d}/modules/{m}/`: the start of this identity's telemetry topics.
    public static func identityPrefix(device: String, module: String?) -> String {
        module.map { "devices/\(device)/modules/\($0)/" } ?? "devices/\(device)/"
    }

    /// Where the first `/?` starts.
    static func querySeparator(in topic: String) -> String.Index? {
        var index = topic.startIndex
        while index < topic.endIndex {
            let next = topic.index(after: index)
            if topic[index] == "/", next < topic.endIndex, topic[next] == "?" { return index }
            index = next
        }
        return nil
    }

    /// `k=v&k2=v2` into a dictionary (values as written; the first `=` splits). Nil when a pair has no `=`
    /// or a key repeats.
    static func query(_ text: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            let key = String(pair[pair.startIndex..<eq])
            guard result[key] == nil else { return nil }
            result[key] = String(pair[pair.index(after: eq)...])
        }
        return result
    }
}

/// Topics the hub publishes to a device.
public enum DeviceResponseTopic {
    /// `$iothub/twin/res/{status}/?$rid={rid}[&$version={n}]` — `$rid` first (the Python SDK needs it).
    public static func twinResponse(status: Int, requestID: String, version: Int64? = nil) -> String {
        var topic = "$iothub/twin/res/\(status)/?$rid=\(requestID)"
        if let version { topic += "&$version=\(version)" }
        return topic
    }

    /// `$iothub/twin/PATCH/properties/desired/?$version={n}`.
    public static func desiredPatch(version: Int64) -> String {
        "$iothub/twin/PATCH/properties/desired/?$version=\(version)"
    }

    /// `$iothub/methods/POST/{name}/?$rid={rid}`.
    public static func methodRequest(name: String, requestID: String) -> String {
        "$iothub/methods/POST/\(name)/?$rid=\(requestID)"
    }
}
