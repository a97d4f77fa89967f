/// Why a SAS token was refused. Messages never contain the token or its signature.
public struct SASError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Not a `SharedAccessSignature …` with exactly one each of sr, sig, se (se a decimal Int64).
        case malformed = "MalformedToken"
        /// `se` is in the past beyond the allowed clock skew.
        case expired = "TokenExpired"
        /// `se` is further ahead than the maximum token lifetime.
        case lifetimeTooLong = "TokenLifetimeTooLong"
        /// `sr` names another hub or another identity.
        case wrongResource = "WrongResource"
        /// The signature does not verify with any acceptable key.
        case invalidSignature = "InvalidSignature"
        /// `skn` names no policy, or one without the required right.
        case unknownPolicy = "UnknownPolicy"
    }
    public var code: Code
    public init(_ code: Code) { self.code = code }
    public var description: String { code.rawValue }

    static let malformed = SASError(.malformed)
}
