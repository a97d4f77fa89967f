/// A device identifier with Azure IoT Hub's rules: 1…128 ASCII characters from letters, digits and
/// `- : . + % _ # * ? ! ( ) , = @ ; $ '`, case-sensitive.
///
/// The character set is ASCII only, so String comparison here is byte comparison (no Unicode
/// equivalence can make two different identifiers equal).
public struct DeviceID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; nil when it breaks the rules (use `init(validating:)` for the reason).
    public init?(rawValue: String) {
        guard (try? Self.validate(rawValue, kind: "device id")) != nil else { return nil }
        self.rawValue = rawValue
    }

    public init(validating raw: String) throws(IdentifierError) {
        try Self.validate(raw, kind: "device id")
        self.rawValue = raw
    }

    public var description: String { rawValue }

    public static func < (lhs: DeviceID, rhs: DeviceID) -> Bool { lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8) }

    /// The characters Azure allows besides ASCII letters and digits.
    static let allowedPunctuation: Set<UInt8> = Set("-:.+%_#*?!(),=@;$'".utf8)

    static func validate(_ raw: String, kind: String) throws(IdentifierError) {
        let bytes = raw.utf8
        guard !bytes.isEmpty else { throw IdentifierError(kind: kind, reason: .empty) }
        guard bytes.count <= 128 else { throw IdentifierError(kind: kind, reason: .tooLong) }
        for b in bytes {
            let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            guard alnum || allowedPunctuation.contains(b) else { throw IdentifierError(kind: kind, reason: .invalidCharacter) }
        }
    }
}

/// A module identifier: the same rules as a device identifier.
public struct ModuleID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard (try? DeviceID.validate(rawValue, kind: "module id")) != nil else { return nil }
        self.rawValue = rawValue
    }

    public init(validating raw: String) throws(IdentifierError) {
        try DeviceID.validate(raw, kind: "module id")
        self.rawValue = raw
    }

    public var description: String { rawValue }
    public static func < (lhs: ModuleID, rhs: ModuleID) -> Bool { lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8) }
}

/// A device, or a module of a device: whoever a credential speaks for.
public struct IdentityID: Hashable, Sendable, CustomStringConvertible {
    public var device: DeviceID
    public var module: ModuleID?

    public init(device: DeviceID, module: ModuleID? = nil) {
        self.device = device
        self.module = module
    }

    /// `dev` or `dev/mod`: the MQTT client identifier Azure devices and modules use.
    public var description: String { module.map { "\(device.rawValue)/\($0.rawValue)" } ?? device.rawValue }
}
