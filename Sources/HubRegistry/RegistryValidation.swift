import HubCore

/// Input rules of the registry (Azure's where it has them), checked before anything is written.
/// Messages never echo free text (it may be attacker-controlled and end up in a log); validated
/// identifiers may appear.
enum RegistryValidation {
    /// `statusReason`: at most 128 characters (Azure).
    static let maximumStatusReasonLength = 128
    /// Free-text fields without an Azure limit (device scope, parent scopes, managedBy): bytes.
    static let maximumTextBytes = 1024
    static let maximumParentScopes = 10
    /// CA certificate names and MQTT usernames: bytes of UTF-8.
    static let maximumNameBytes = 256
    static let maximumPasswordBytes = 65_535
    static let maximumRules = 1000
    static let maximumPatternBytes = 65_535

    static func check(_ write: DeviceWrite) throws(RegistryError) {
        if let reason = write.statusReason {
            guard reason.unicodeScalars.count <= maximumStatusReasonLength else {
                throw .invalid("statusReason must be at most \(maximumStatusReasonLength) characters")
            }
        }
        if let scope = write.deviceScope {
            guard scope.utf8.count <= maximumTextBytes else { throw .invalid("deviceScope is too long") }
        }
        guard write.parentScopes.count <= maximumParentScopes else { throw .invalid("too many parentScopes") }
        guard write.parentScopes.allSatisfy({ $0.utf8.count <= maximumTextBytes }) else {
            throw .invalid("a parent scope is too long")
        }
    }

    static func check(_ write: ModuleWrite) throws(RegistryError) {
        if let managedBy = write.managedBy {
            guard managedBy.utf8.count <= maximumTextBytes else { throw .invalid("managedBy is too long") }
        }
    }

    /// The authentication to store: nil → SAS with two generated 256-bit keys; a nil SAS key generated;
    /// thumbprints normalised (upper-case hex without separators; 40 or 64 digits) and at least one
    /// required; keys must be 16…64 bytes (`SharedAccessKey` guarantees it; checked again here because
    /// it is the registry's rule too).
    static func authentication(_ write: AuthenticationWrite?) throws(RegistryError) -> DeviceAuthentication {
        guard let write else { return .generatedSAS() }
        switch write {
        case .sas(let primary, let secondary):
            for key in [primary, secondary].compactMap({ $0 }) {
                guard SharedAccessKey.acceptedLengths.contains(key.bytes.count) else {
                    throw .invalid("symmetric keys must be 16 to 64 bytes long")
                }
            }
            return .sas(primaryKey: primary ?? .generate(), secondaryKey: secondary ?? .generate())
        case .selfSigned(let primary, let secondary):
            let p = try normalized(primary, "primaryThumbprint")
            let s = try normalized(secondary, "secondaryThumbprint")
            guard p != nil || s != nil else { throw .invalid("selfSigned authentication needs a thumbprint") }
            return .selfSigned(primaryThumbprint: p, secondaryThumbprint: s)
        case .certificateAuthority:
            return .certificateAuthority
        case .none:
            return .none
        }
    }

    private static func normalized(_ thumbprint: String?, _ field: String) throws(RegistryError) -> String? {
        guard let thumbprint, !thumbprint.isEmpty else { return nil }
        guard let normal = Thumbprint.normalize(thumbprint) else {
            throw .invalid("\(field) must be 40 (SHA-1) or 64 (SHA-256) hex digits")
        }
        return normal
    }

    /// New SAS keys after `which`.
    static func regenerate(primary: SharedAccessKey, secondary: SharedAccessKey, _ which: KeyRegeneration) -> DeviceAuthentication {
        switch which {
        case .primary: .sas(primaryKey: .generate(), secondaryKey: secondary)
        case .secondary: .sas(primaryKey: primary, secondaryKey: .generate())
        case .swap: .sas(primaryKey: secondary, secondaryKey: primary)
        }
    }

    /// CA names and usernames: 1…256 bytes, no control characters (C0, DEL, C1), which also keeps NUL
    /// out of MQTT usernames [MQTT-1.5.4-2].
    static func checkName(_ name: String, _ field: String) throws(RegistryError) {
        guard !name.isEmpty else { throw .invalid("\(field) must not be empty") }
        guard name.utf8.count <= maximumNameBytes else { throw .invalid("\(field) must be at most \(maximumNameBytes) bytes") }
        guard !name.unicodeScalars.contains(where: isControl) else { throw .invalid("\(field) must not contain control characters") }
    }

    static func checkPassword(_ password: String) throws(RegistryError) {
        guard !password.isEmpty else { throw .invalid("the password must not be empty") }
        guard password.utf8.count <= maximumPasswordBytes else { throw .invalid("the password is too long") }
    }

    static func checkRules(_ rules: [ACLRule]) throws(RegistryError) {
        guard rules.count <= maximumRules else { throw .invalid("at most \(maximumRules) rules") }
        for rule in rules {
            guard !rule.pattern.isEmpty, rule.pattern.utf8.count <= maximumPatternBytes else {
                throw .invalid("a rule's pattern must be 1 to \(maximumPatternBytes) bytes")
            }
            guard !rule.pattern.unicodeScalars.contains(where: isControl) else {
                throw .invalid("a rule's pattern must not contain control characters")
            }
            guard ACLRule.Actions.all.isSuperset(of: rule.actions) else { throw .invalid("a rule has unknown actions") }
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
