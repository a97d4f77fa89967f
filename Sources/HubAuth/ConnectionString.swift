import HubCore

/// `HostName=…;DeviceId=…;SharedAccessKey=…` and friends (Azure §1.4).
public struct ConnectionString: Sendable, Hashable, CustomStringConvertible {
    public var hostName: String
    public var deviceID: String?
    public var moduleID: String?
    public var sharedAccessKeyName: String?
    public var sharedAccessKey: SharedAccessKey?
    public var sharedAccessSignature: String?
    public var gatewayHostName: String?
    public var x509: Bool

    public init(
        hostName: String, deviceID: String? = nil, moduleID: String? = nil, sharedAccessKeyName: String? = nil,
        sharedAccessKey: SharedAccessKey? = nil, sharedAccessSignature: String? = nil, gatewayHostName: String? = nil, x509: Bool = false
    ) {
        self.hostName = hostName
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.sharedAccessKeyName = sharedAccessKeyName
        self.sharedAccessKey = sharedAccessKey
        self.sharedAccessSignature = sharedAccessSignature
        self.gatewayHostName = gatewayHostName
        self.x509 = x509
    }

    /// The keys this type understands, in the order `description` writes them.
    private enum Key: String, CaseIterable {
        case hostName = "HostName"
        case deviceID = "DeviceId"
        case moduleID = "ModuleId"
        case sharedAccessKeyName = "SharedAccessKeyName"
        case sharedAccessKey = "SharedAccessKey"
        case sharedAccessSignature = "SharedAccessSignature"
        case x509 = "x509"
        case gatewayHostName = "GatewayHostName"

        /// Case-insensitive (ASCII) lookup, as the Azure SDKs do.
        init?<S: StringProtocol>(matching name: S) {
            let folded = ASCII.lowercased(name)
            guard let match = Self.allCases.first(where: { ASCII.lowercased($0.rawValue).elementsEqual(folded) }) else { return nil }
            self = match
        }
    }

    /// Parses `Key=Value;…` (keys case-insensitive, values may contain `=`); `HostName` required.
    ///
    /// Each part is split on its first `=`. Empty parts (`;;`, a trailing `;`) are skipped and unknown
    /// keys ignored. Errors: a part without `=`, a known key given twice, an empty value, a missing
    /// `HostName`, `SharedAccessKey` that is not a 16–64-byte base64 key, `x509` other than
    /// `true`/`false`, and `ModuleId` without `DeviceId`. Error messages name the key, never a value.
    public static func parse(_ text: String) throws(ConnectionStringError) -> ConnectionString {
        var values: [Key: Substring] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let equals = part.firstIndex(of: "=") else {
                throw ConnectionStringError("connection string part without '='")
            }
            guard let key = Key(matching: part[..<equals]) else { continue }
            let value = part[part.index(after: equals)...]
            guard values[key] == nil else { throw ConnectionStringError("\(key.rawValue) appears more than once") }
            guard !value.isEmpty else { throw ConnectionStringError("\(key.rawValue) is empty") }
            values[key] = value
        }
        guard let host = values[.hostName] else { throw ConnectionStringError("HostName is missing") }
        var result = ConnectionString(hostName: String(host))
        result.deviceID = values[.deviceID].map(String.init)
        result.moduleID = values[.moduleID].map(String.init)
        result.sharedAccessKeyName = values[.sharedAccessKeyName].map(String.init)
        result.sharedAccessSignature = values[.sharedAccessSignature].map(String.init)
        result.gatewayHostName = values[.gatewayHostName].map(String.init)
        if let key = values[.sharedAccessKey] {
            do {
                result.sharedAccessKey = try SharedAccessKey(base64: String(key))
            } catch {
                throw ConnectionStringError("SharedAccessKey: \(error)")
            }
        }
        if let flag = values[.x509] {
            let folded = ASCII.lowercased(flag)
            if folded.elementsEqual("true".utf8) {
                result.x509 = true
            } else if folded.elementsEqual("false".utf8) {
                result.x509 = false
            } else {
                throw ConnectionStringError("x509 must be true or false")
            }
        }
        if result.moduleID != nil && result.deviceID == nil { throw ConnectionStringError("ModuleId needs a DeviceId") }
        return result
    }

    /// The connection string text, with the key (this is the one place a key is meant to be printed).
    ///
    /// Canonical order: `HostName`, `DeviceId`, `ModuleId`, `SharedAccessKeyName`, `SharedAccessKey`,
    /// `SharedAccessSignature`, `x509=true`, `GatewayHostName`; absent fields are left out. A device string
    /// is `HostName=…;DeviceId=…;SharedAccessKey=…`, a service string
    /// `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`, as Azure prints them.
    public var description: String {
        var parts: [(Key, String)] = [(.hostName, hostName)]
        if let deviceID { parts.append((.deviceID, deviceID)) }
        if let moduleID { parts.append((.moduleID, moduleID)) }
        if let sharedAccessKeyName { parts.append((.sharedAccessKeyName, sharedAccessKeyName)) }
        if let sharedAccessKey { parts.append((.sharedAccessKey, sharedAccessKey.base64)) }
        if let sharedAccessSignature { parts.append((.sharedAccessSignature, sharedAccessSignature)) }
        if x509 { parts.append((.x509, "true")) }
        if let gatewayHostName { parts.append((.gatewayHostName, gatewayHostName)) }
        return parts.map { "\($0.0.rawValue)=\($0.1)" }.joined(separator: ";")
    }
}
