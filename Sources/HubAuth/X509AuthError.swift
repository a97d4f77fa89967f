/// Why a client certificate was refused.
public struct X509AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case noCertificate, unparsable, expired, notYetValid, wrongExtendedKeyUsage, subjectMismatch
        case thumbprintMismatch, untrustedChain, notACertificateAuthority
    }
    public var code: Code
    public init(_ code: Code) { self.code = code }
    public var description: String { code.rawValue }
}
