// The public surface of HubAuth still to be moved out of this file. Bodies are filled in by the HubAuth
// implementation work; the signatures and their documented behaviour are the contract other modules
// are written against.
import HubCore

// MARK: - X.509 device authentication

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

/// X.509 checks for devices and CA registration (swift-certificates).
public enum X509DeviceVerifier {
    /// SHA-1 and SHA-256 thumbprints of a DER certificate, upper-case hex.
    public static func thumbprints(der: [UInt8]) -> (sha1: String, sha256: String) { fatalError("HubAuth: not implemented yet") }

    /// `selfSigned` authentication: the leaf (first of `chainDER`) must be currently valid, allow
    /// clientAuth (when it has an EKU extension), and its SHA-1 or SHA-256 thumbprint must equal the
    /// primary or secondary thumbprint. Returns whether the primary matched.
    public static func verifyThumbprint(chainDER: [[UInt8]], primary: String?, secondary: String?, now: Timestamp) throws(X509AuthError) -> Bool {
        fatalError("HubAuth: not implemented yet")
    }

    /// `certificateAuthority` authentication: the presented chain must validate (signatures, validity,
    /// basicConstraints CA:TRUE on every issuer, clientAuth EKU on the leaf if present) up to one of
    /// `trustedCAPEMs`, and the leaf's subject CN must equal `deviceID`. Returns the matching CA's PEM.
    public static func verifyChain(chainDER: [[UInt8]], deviceID: String, trustedCAPEMs: [String], now: Timestamp) async throws(X509AuthError) -> String {
        fatalError("HubAuth: not implemented yet")
    }

    /// Parses a CA certificate PEM for registration: must be one certificate with basicConstraints CA:TRUE.
    public static func inspectCA(pem: String) throws(X509AuthError) -> (subject: String, thumbprintSHA256: String, notBefore: Timestamp, notAfter: Timestamp) {
        fatalError("HubAuth: not implemented yet")
    }

    /// Proof of possession: `proofPEM` has subject CN == `verificationCode`, is currently valid, and is
    /// signed by the key of the CA in `caPEM`.
    public static func verifyProofOfPossession(proofPEM: String, caPEM: String, verificationCode: String, now: Timestamp) throws(X509AuthError) {
        fatalError("HubAuth: not implemented yet")
    }
}

