import Crypto
import HubCore
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// X.509 checks for devices and CA registration (swift-certificates).
///
/// The leaf is checked first, on its own, so each refusal has a precise code (expired, EKU, subject);
/// then swift-certificates' `Verifier` builds and checks the path (signatures, validity of every
/// certificate, basicConstraints, path length, name constraints) with `RFC5280Policy` at the given
/// time plus `DeviceChainPolicy`.
public enum X509DeviceVerifier {
    /// Longest presented chain looked at (leaf plus intermediates). TLS clients send a handful; a
    /// longer one is refused before any path building.
    public static let maximumChainLength = 8

    /// SHA-1 and SHA-256 thumbprints of a DER certificate, upper-case hex.
    public static func thumbprints(der: [UInt8]) -> (sha1: String, sha256: String) {
        (hex(Insecure.SHA1.hash(data: der)), hex(SHA256.hash(data: der)))
    }

    /// `selfSigned` authentication: the leaf (first of `chainDER`) must be currently valid, allow
    /// clientAuth (when it has an EKU extension), and its SHA-1 or SHA-256 thumbprint must equal the
    /// primary or secondary thumbprint. Returns whether the primary matched.
    ///
    /// Registered thumbprints go through `Thumbprint.normalize` (case, `:` and spaces ignored); one
    /// that is not 40 or 64 hex digits matches nothing. The rest of the chain is ignored: the
    /// registered thumbprint is the trust anchor.
    public static func verifyThumbprint(chainDER: [[UInt8]], primary: String?, secondary: String?, now: Timestamp) throws(X509AuthError) -> Bool {
        guard let der = chainDER.first else { throw X509AuthError(.noCertificate) }
        let leaf = try parse(der: der)
        try checkValidity(leaf, now: now)
        guard try allowsClientAuth(leaf) else { throw X509AuthError(.wrongExtendedKeyUsage) }
        let (sha1, sha256) = thumbprints(der: der)
        func matches(_ registered: String?) -> Bool {
            guard let registered, let normalized = Thumbprint.normalize(registered) else { return false }
            return normalized.utf8Equals(sha1) || normalized.utf8Equals(sha256)
        }
        if matches(primary) { return true }
        if matches(secondary) { return false }
        throw X509AuthError(.thumbprintMismatch)
    }

    /// `certificateAuthority` authentication: the presented chain must validate (signatures, validity,
    /// basicConstraints CA:TRUE on every issuer, clientAuth EKU on the leaf if present) up to one of
    /// `trustedCAPEMs`, and the leaf's subject CN must equal `deviceID`. Returns the matching CA's PEM.
    ///
    /// The leaf's subject must have exactly one CN, equal to `deviceID` byte for byte. Presented
    /// intermediates must each be CA:TRUE and currently valid (`notACertificateAuthority`,
    /// `expired`, `notYetValid`). Trusted PEMs that do not parse are skipped. Any other failure to
    /// build a path is `untrustedChain`.
    public static func verifyChain(chainDER: [[UInt8]], deviceID: String, trustedCAPEMs: [String], now: Timestamp) async throws(X509AuthError) -> String {
        guard !chainDER.isEmpty else { throw X509AuthError(.noCertificate) }
        guard chainDER.count <= maximumChainLength else { throw X509AuthError(.untrustedChain) }
        var chain: [Certificate] = []
        for der in chainDER { chain.append(try parse(der: der)) }
        let leaf = chain[0]
        try checkValidity(leaf, now: now)
        guard try allowsClientAuth(leaf) else { throw X509AuthError(.wrongExtendedKeyUsage) }
        let names = commonNames(leaf.subject)
        guard names.count == 1, names[0].utf8Equals(deviceID) else { throw X509AuthError(.subjectMismatch) }
        for intermediate in chain.dropFirst() {
            guard isCertificateAuthority(intermediate) else { throw X509AuthError(.notACertificateAuthority) }
            try checkValidity(intermediate, now: now)
        }

        let trusted: [(pem: String, certificate: Certificate)] = trustedCAPEMs.compactMap { pem in
            (try? Certificate(pemEncoded: pem)).map { (pem, $0) }
        }
        let validationTime = date(now)
        var verifier = Verifier(rootCertificates: CertificateStore(trusted.map(\.certificate))) {
            RFC5280Policy(fixedExpiryValidationTime: validationTime)
            DeviceChainPolicy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
        guard case .validCertificate(let validated) = result, let root = validated.last,
            let match = trusted.first(where: { $0.certificate == root })
        else { throw X509AuthError(.untrustedChain) }
        return match.pem
    }

    /// Parses a CA certificate PEM for registration: must be one certificate with basicConstraints CA:TRUE.
    ///
    /// `subject` is the RFC 4514 form swift-certificates prints (`CN=…,O=…`); the thumbprint is the
    /// SHA-256 of the DER, upper-case hex; the times are the validity bounds in milliseconds.
    public static func inspectCA(pem: String) throws(X509AuthError) -> (subject: String, thumbprintSHA256: String, notBefore: Timestamp, notAfter: Timestamp) {
        let (certificate, der) = try parseSinglePEM(pem)
        guard isCertificateAuthority(certificate) else { throw X509AuthError(.notACertificateAuthority) }
        return (
            String(describing: certificate.subject), thumbprints(der: der).sha256,
            timestamp(certificate.notValidBefore), timestamp(certificate.notValidAfter)
        )
    }

    /// Proof of possession: `proofPEM` has subject CN == `verificationCode`, is currently valid, and is
    /// signed by the key of the CA in `caPEM`.
    ///
    /// The CA must still be a CA (`notACertificateAuthority`); a proof not signed by its key is
    /// `untrustedChain`; a subject without exactly one CN equal to the code is `subjectMismatch`.
    public static func verifyProofOfPossession(proofPEM: String, caPEM: String, verificationCode: String, now: Timestamp) throws(X509AuthError) {
        let (proof, _) = try parseSinglePEM(proofPEM)
        let (ca, _) = try parseSinglePEM(caPEM)
        guard isCertificateAuthority(ca) else { throw X509AuthError(.notACertificateAuthority) }
        try checkValidity(proof, now: now)
        let names = commonNames(proof.subject)
        guard names.count == 1, names[0].utf8Equals(verificationCode) else { throw X509AuthError(.subjectMismatch) }
        guard ca.publicKey.isValidSignature(proof.signature, for: proof) else { throw X509AuthError(.untrustedChain) }
    }

    // MARK: - Helpers

    /// True when the certificate has no EKU extension, or one listing clientAuth or anyExtendedKeyUsage.
    /// A malformed EKU extension is `unparsable`.
    static func allowsClientAuth(_ certificate: Certificate) throws(X509AuthError) -> Bool {
        let usages: ExtendedKeyUsage?
        do {
            usages = try certificate.extensions.extendedKeyUsage
        } catch {
            throw X509AuthError(.unparsable)
        }
        guard let usages else { return true }
        return usages.contains(.clientAuth) || usages.contains(.any)
    }

    /// basicConstraints present and CA:TRUE (any path length); false if absent or malformed.
    static func isCertificateAuthority(_ certificate: Certificate) -> Bool {
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else { return false }
        return true
    }

    static func checkValidity(_ certificate: Certificate, now: Timestamp) throws(X509AuthError) {
        let instant = date(now)
        if instant < certificate.notValidBefore { throw X509AuthError(.notYetValid) }
        if instant > certificate.notValidAfter { throw X509AuthError(.expired) }
    }

    /// Every CN attribute of a name, in order.
    static func commonNames(_ name: DistinguishedName) -> [String] {
        name.flatMap { rdn in
            rdn.compactMap { attribute in
                attribute.type == .RDNAttributeType.commonName ? String(attribute.value) : nil
            }
        }
    }

    static func parse(der: [UInt8]) throws(X509AuthError) -> Certificate {
        do {
            return try Certificate(derEncoded: der)
        } catch {
            throw X509AuthError(.unparsable)
        }
    }

    /// Exactly one `CERTIFICATE` PEM block; returns the certificate and its DER.
    static func parseSinglePEM(_ pem: String) throws(X509AuthError) -> (Certificate, [UInt8]) {
        do {
            let documents = try PEMDocument.parseMultiple(pemString: pem)
            guard documents.count == 1, documents[0].discriminator.utf8Equals("CERTIFICATE") else {
                throw X509AuthError(.unparsable)
            }
            let der = documents[0].derBytes
            return (try Certificate(derEncoded: der), der)
        } catch {
            throw X509AuthError(.unparsable)
        }
    }

    static func date(_ timestamp: Timestamp) -> Date {
        Date(timeIntervalSince1970: Double(timestamp.rawValue) / 1000)
    }

    static func timestamp(_ date: Date) -> Timestamp {
        Timestamp(rawValue: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    static func hex<D: Sequence<UInt8>>(_ digest: D) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
