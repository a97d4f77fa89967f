import HubCore

/// The MQTT username an Azure device or module sends: `{host}/{deviceId}[/{moduleId}]/?api-version=…`
/// (protocol reference §2.1). Parsed leniently, as older and hand-written clients vary: the query may
/// follow `/?`, a bare `/` (`{host}/{id}/api-version=…`), or be missing.
struct AzureDeviceUsername: Hashable, Sendable {
    var host: String
    /// `deviceId` or `deviceId/moduleId`, exactly as sent.
    var identity: String
    /// Percent-decoded query parameters (`api-version`, `DeviceClientType`, `model-id` …).
    var parameters: [String: String]

    /// Parses `username` if it names `clientID` as its identity; nil otherwise (then it is not a device
    /// username: a generic MQTT user, or a mismatch the caller refuses).
    init?(_ username: String, clientID: String) {
        guard let firstSlash = username.firstIndex(of: "/") else { return nil }
        host = String(username[..<firstSlash])
        guard !host.isEmpty else { return nil }
        var rest = username[username.index(after: firstSlash)...]
        var query: Substring = ""
        // The identity is the client id verbatim (device ids may contain '?', '=' …), so match it
        // first, then read what follows as the query.
        guard rest.hasPrefix(clientID) else { return nil }
        rest = rest.dropFirst(clientID.count)
        if rest.isEmpty || rest == "/" {
            query = ""
        } else if rest.hasPrefix("/?") {
            query = rest.dropFirst(2)
        } else if rest.hasPrefix("/") {
            query = rest.dropFirst()
            guard query.contains("=") else { return nil }  // `{host}/{id}/something` is not this form
        } else {
            return nil
        }
        identity = clientID
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentEncoding.decode(kv[0].utf8) ?? String(kv[0])
            parameters[key] = kv.count > 1 ? (PercentEncoding.decode(kv[1].utf8) ?? String(kv[1])) : ""
        }
        self.parameters = parameters
    }

    /// The device and module the identity names; nil if it is not `device` or `device/module` with
    /// valid ids.
    var identityID: IdentityID? {
        let parts = identity.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return DeviceID(rawValue: String(parts[0])).map { IdentityID(device: $0) }
        case 2:
            guard let d = DeviceID(rawValue: String(parts[0])), let m = ModuleID(rawValue: String(parts[1])) else { return nil }
            return IdentityID(device: d, module: m)
        default:
            return nil
        }
    }
}
