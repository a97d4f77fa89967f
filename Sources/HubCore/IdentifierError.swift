/// Why a device, module or policy identifier was refused. The message never echoes the identifier
/// (it may be attacker-controlled and end up in a log).
public struct IdentifierError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable {
        case empty, tooLong, invalidCharacter
    }
    public var kind: String
    public var reason: Reason

    public init(kind: String, reason: Reason) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .empty: return "\(kind) must not be empty"
        case .tooLong: return "\(kind) is longer than 128 characters"
        case .invalidCharacter:
            return "\(kind) may contain only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '"
        }
    }
}
