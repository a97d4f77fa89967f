/// A symmetric key for SAS tokens (device, module or access-policy key): 16…64 random bytes, written
/// base64 in Azure's APIs and connection strings.
///
/// Its descriptions never show the key, so it cannot leak into a log by accident.
public struct SharedAccessKey: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The raw key bytes (HMAC key).
    public let bytes: [UInt8]

    /// Key length Meridian generates: 32 bytes (256 bits), like Azure.
    public static let generatedLength = 32
    /// Lengths Azure accepts for a supplied key.
    public static let acceptedLengths = 16...64

    public init(bytes: [UInt8]) throws(KeyError) {
        guard Self.acceptedLengths.contains(bytes.count) else { throw KeyError.badLength }
        self.bytes = bytes
    }

    /// Parses a base64 key as it appears in JSON and connection strings.
    public init(base64: String) throws(KeyError) {
        guard let decoded = Base64.decode(base64) else { throw KeyError.notBase64 }
        try self.init(bytes: decoded)
    }

    /// A fresh key from the system's cryptographically secure generator.
    public static func generate() -> SharedAccessKey {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<generatedLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return try! SharedAccessKey(bytes: bytes)
    }

    /// The key in base64, for the API responses and connection strings that must carry it.
    public var base64: String { Base64.encode(bytes) }

    public var description: String { "<redacted key>" }
    public var debugDescription: String { "<redacted key>" }
    /// `dump()` and debuggers see no bytes either.
    public var customMirror: Mirror { Mirror(self, children: ["bytes": "<redacted>"]) }

    /// Constant-time comparison: a mismatch at the first byte takes as long as one at the last, so
    /// comparing a presented key with a stored one leaks nothing through timing.
    public static func == (lhs: SharedAccessKey, rhs: SharedAccessKey) -> Bool {
        guard lhs.bytes.count == rhs.bytes.count else { return false }
        var difference: UInt8 = 0
        for i in lhs.bytes.indices { difference |= lhs.bytes[i] ^ rhs.bytes[i] }
        return difference == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }

    public enum KeyError: Error, Sendable, Hashable, CustomStringConvertible {
        case notBase64, badLength
        public var description: String {
            switch self {
            case .notBase64: return "the key is not valid base64"
            case .badLength: return "the key must be 16 to 64 bytes long"
            }
        }
    }
}
