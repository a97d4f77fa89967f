import HubCore
import HubRegistry

/// Shared access policies as Azure's `SharedAccessSignatureAuthorizationRule`:
/// `{"keyName","primaryKey","secondaryKey","rights":"RegistryRead, RegistryWrite, …"}`. The list leaves
/// the keys out; only a single policy's GET (and its key regeneration) carries them.
enum PolicyJSON {
    static func encode(_ policy: AccessPolicy, withKeys: Bool) -> JSONValue {
        var object = JSONObject(["keyName": .string(policy.name)])
        if withKeys {
            object["primaryKey"] = .string(policy.primaryKey.base64)
            object["secondaryKey"] = .string(policy.secondaryKey.base64)
        }
        object["rights"] = .string(policy.rights.description)
        return .object(object)
    }
}

/// `{"keyType":"primary"|"secondary"|"swap"}`: the body of the regenerateKey extensions.
enum KeyRegenerationJSON {
    static func decode(_ value: JSONValue) throws(APIError) -> KeyRegeneration {
        let reader = try JSONReader(value)
        try reader.allowOnly(["keyType"])
        let text = try reader.requiredString("keyType")
        guard let which = KeyRegeneration(rawValue: text) else { throw .invalid("keyType must be primary, secondary or swap") }
        return which
    }
}
