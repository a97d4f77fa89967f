/// How a device or module proves its identity (Azure's `authentication` object).
public enum DeviceAuthentication: Hashable, Sendable {
    /// Symmetric keys; a SAS token signed with either is accepted.
    case sas(primaryKey: SharedAccessKey, secondaryKey: SharedAccessKey)
    /// A self-signed (or any) X.509 client certificate whose thumbprint is registered: SHA-1 (40 hex) or
    /// SHA-256 (64 hex) of the certificate's DER, compared case-insensitively.
    case selfSigned(primaryThumbprint: String?, secondaryThumbprint: String?)
    /// An X.509 certificate chaining to a registered, verified CA, whose subject CN is the device id.
    case certificateAuthority
    /// No credential of its own (e.g. a device behind a gateway); only policy tokens can act for it.
    case none

    /// Azure's `authentication.type`: `sas`, `selfSigned`, `certificateAuthority` or `none`.
    public var type: String {
        switch self {
        case .sas: return "sas"
        case .selfSigned: return "selfSigned"
        case .certificateAuthority: return "certificateAuthority"
        case .none: return "none"
        }
    }

    /// New SAS authentication with two fresh 256-bit keys.
    public static func generatedSAS() -> DeviceAuthentication {
        .sas(primaryKey: .generate(), secondaryKey: .generate())
    }
}

/// The thumbprint form Meridian stores: upper-case hex without separators.
public enum Thumbprint {
    /// Normalises a thumbprint (strips `:` and spaces, upper-cases); nil unless it is 40 or 64 hex digits.
    public static func normalize(_ raw: String) -> String? {
        let hex = raw.uppercased().filter { $0 != ":" && $0 != " " }
        guard hex.count == 40 || hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        return hex
    }
}
