import HubCore

extension CloudToDeviceQueue {
    /// The longest message id Azure accepts.
    public static let maxMessageIDLength = 128

    /// Refuses (`.invalidArgument`) properties that could not be delivered on both device transports:
    /// application property names must be non-empty HTTP tokens (Azure's set for HTTPS and C2D: letters,
    /// digits and ``! # $ % & ' * + - . ^ _ ` | ~``, protocol reference §2.3), since HTTPS delivers them as
    /// header names, and must not be system keys, which a device would read as system properties; every
    /// property value must be printable ASCII (no control characters in headers); the message id is at
    /// most 128 characters.
    static func validateProperties(_ message: DeviceMessage) throws(MessagingError) {
        if let id = message.messageID, id.utf8.count > maxMessageIDLength {
            throw MessagingError(.invalidArgument, "message ids are limited to \(maxMessageIDLength) characters")
        }
        for system in SystemProperty.allCases {
            if let value = system.get(message), !isPrintableASCII(value) {
                throw MessagingError(.invalidArgument, "system property values must be printable ASCII")
            }
        }
        for property in message.applicationProperties {
            guard !property.name.isEmpty, property.name.utf8.allSatisfy(isTokenCharacter) else {
                throw MessagingError(.invalidArgument, "application property names must be non-empty HTTP tokens")
            }
            guard !PropertyBag.isReservedKey(property.name) else {
                throw MessagingError(.invalidArgument, "an application property is named like a system property")
            }
            if let value = property.value, !isPrintableASCII(value) {
                throw MessagingError(.invalidArgument, "application property values must be printable ASCII")
            }
        }
    }

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    private static let tokenPunctuation: Set<UInt8> = Set("!#$%&'*+-.^_`|~".utf8)

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            tokenPunctuation.contains(byte)
        }
    }
}
