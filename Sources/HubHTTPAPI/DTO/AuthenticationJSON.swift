import HubCore
import HubRegistry

/// Azure's `authentication` object (AuthenticationMechanism) in both directions.
///
/// Out: `{"symmetricKey":{"primaryKey","secondaryKey"},"x509Thumbprint":{"primaryThumbprint",
/// "secondaryThumbprint"},"type"}` with nulls for whatever the type does not use (protocol reference
/// §4.4). In: the same shape; `type` decides which part is read, and when it is absent the part that is
/// present decides (the SDKs always send it).
enum AuthenticationJSON {
    static func encode(_ authentication: DeviceAuthentication) -> JSONValue {
        var primaryKey: String?
        var secondaryKey: String?
        var primaryThumbprint: String?
        var secondaryThumbprint: String?
        switch authentication {
        case .sas(let p, let s):
            primaryKey = p.base64
            secondaryKey = s.base64
        case .selfSigned(let p, let s):
            primaryThumbprint = p
            secondaryThumbprint = s
        case .certificateAuthority, .none:
            break
        }
        return .object(
            JSONObject([
                "symmetricKey": .object(JSONObject(["primaryKey": .optional(primaryKey), "secondaryKey": .optional(secondaryKey)])),
                "x509Thumbprint": .object(
                    JSONObject([
                        "primaryThumbprint": .optional(primaryThumbprint), "secondaryThumbprint": .optional(secondaryThumbprint),
                    ])),
                "type": .string(authentication.type),
            ]))
    }

    /// Decodes an `authentication` member; nil when absent or null (the registry then generates SAS keys).
    static func decode(_ reader: JSONReader?) throws(APIError) -> AuthenticationWrite? {
        guard let reader else { return nil }
        try reader.allowOnly(["symmetricKey", "x509Thumbprint", "type"])
        let symmetric = try reader.reader("symmetricKey")
        try symmetric?.allowOnly(["primaryKey", "secondaryKey"])
        let x509 = try reader.reader("x509Thumbprint")
        try x509?.allowOnly(["primaryThumbprint", "secondaryThumbprint"])

        let type: String
        if let given = try reader.string("type") {
            type = given
        } else if let x509, x509.has("primaryThumbprint") || x509.has("secondaryThumbprint") {
            type = "selfSigned"
        } else {
            type = "sas"
        }
        switch type {
        case "sas":
            return .sas(
                primaryKey: try key(symmetric, "primaryKey"),
                secondaryKey: try key(symmetric, "secondaryKey"))
        case "selfSigned":
            let primary = try thumbprint(x509, "primaryThumbprint")
            let secondary = try thumbprint(x509, "secondaryThumbprint")
            guard primary != nil || secondary != nil else {
                throw .invalid("authentication of type selfSigned needs x509Thumbprint.primaryThumbprint")
            }
            return .selfSigned(primaryThumbprint: primary, secondaryThumbprint: secondary)
        case "certificateAuthority":
            return .certificateAuthority
        case "none":
            return AuthenticationWrite.none
        default:
            throw .invalid("authentication.type must be sas, selfSigned, certificateAuthority or none")
        }
    }

    private static func key(_ reader: JSONReader?, _ name: String) throws(APIError) -> SharedAccessKey? {
        // An empty key means "generate one", as null does.
        guard let reader, let text = try reader.string(name), !text.isEmpty else { return nil }
        do {
            return try SharedAccessKey(base64: text)
        } catch {
            // The message says what is wrong with the key, never the key.
            throw .invalid("\(reader.name(name)): \(error)")
        }
    }

    private static func thumbprint(_ reader: JSONReader?, _ name: String) throws(APIError) -> String? {
        guard let reader, let text = try reader.string(name) else { return nil }
        guard let normalized = Thumbprint.normalize(text) else {
            throw .invalid("\(reader.name(name)) must be 40 (SHA-1) or 64 (SHA-256) hex digits")
        }
        return normalized
    }
}
