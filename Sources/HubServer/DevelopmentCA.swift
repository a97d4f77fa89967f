import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate authority of the hub's own, for development: it lets TLS work out of the box without
/// a public certificate, and clients trust it by loading `<data-dir>/tls/ca.pem`.
///
/// Files in `<data-dir>/tls/` (directory 0700, keys 0600):
/// - `ca.pem`, `ca.key`: the CA, ECDSA P-256, valid 10 years;
/// - `server.pem`, `server.key`: the listeners' certificate, ECDSA P-256, valid 1 year, signed by the CA,
///   extended key usage serverAuth, subject alternative names `localhost`, `127.0.0.1`, `::1` and the
///   hub's `host-name`.
///
/// Both are reused on the next start. The server certificate is issued again when it expires within
/// 30 days, lacks one of those names (e.g. after `host-name` changed), was not signed by the current
/// CA, or its files are damaged. A CA that expires within 30 days is replaced (clients must then trust
/// the new `ca.pem`); a CA with one of its two files missing is an error rather than silently replaced.
public enum DevelopmentCA {
    public static let validityOfCA: TimeInterval = 10 * 365 * 24 * 3600
    public static let validityOfServerCertificate: TimeInterval = 365 * 24 * 3600
    /// Certificates expiring within this are replaced at start-up.
    public static let renewalWindow: TimeInterval = 30 * 24 * 3600
    /// Names every development server certificate carries, besides the host name.
    public static let standardNames = ["localhost", "127.0.0.1", "::1"]

    /// The files of a development CA directory.
    public struct Files: Sendable, Hashable {
        public var directory: String
        public var caCertificate: String { directory + "/ca.pem" }
        public var caKey: String { directory + "/ca.key" }
        public var serverCertificate: String { directory + "/server.pem" }
        public var serverKey: String { directory + "/server.key" }

        /// `<data-dir>/tls`.
        public init(dataDirectory: String) {
            directory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("tls").path
        }
    }

    /// What `ensure` did.
    public struct Outcome: Sendable {
        /// The server certificate (leaf only) and key, ready for `ServerTLS`.
        public var material: TLSMaterial
        public var files: Files
        /// A new CA was created (clients must trust the new `ca.pem`).
        public var createdCA: Bool
        /// A new server certificate was issued, and why.
        public var issuedServerCertificate: String?
    }

    /// Loads the development CA and server certificate in `files`, creating or renewing what is needed.
    public static func ensure(
        files: Files, hostName: String, aliases: [String] = [], now: Date = Date()
    ) throws(HubServerError) -> Outcome {
        do {
            // The data directory too, if missing: it holds the keys' directory and must not be 0755.
            try SecureFile.createDirectory((files.directory as NSString).deletingLastPathComponent, mode: 0o700)
            try SecureFile.createDirectory(files.directory, mode: 0o700)
        } catch {
            throw HubServerError(.tlsMaterial, "cannot create \(files.directory): \(SecureFile.describe(error))")
        }
        let (ca, caKey, createdCA) = try loadOrCreateCA(files, now: now)
        let required = requiredNames(hostNames: [hostName] + aliases)
        var reason: String?
        var server: (certificate: Certificate, key: P256.Signing.PrivateKey)?
        switch loadServerCertificate(files) {
        case .missing:
            reason = "none existed"
        case .damaged:
            reason = "the old files were damaged"
        case .loaded(let certificate, let key):
            if createdCA || !ca.publicKey.isValidSignature(certificate.signature, for: certificate)
                || certificate.issuer != ca.subject
            {
                reason = "the CA changed"
            } else if certificate.notValidAfter.timeIntervalSince(now) < renewalWindow {
                reason = "the old one expires within 30 days"
            } else if !names(of: certificate).isSuperset(of: required) {
                reason = "the host name changed"
            } else {
                server = (certificate, key)
            }
        }
        if server == nil {
            server = try issueServerCertificate(files, ca: ca, caKey: caKey, names: required, now: now)
        }
        let material: TLSMaterial
        do {
            let leaf = try NIOSSLCertificate(bytes: try derBytes(server!.certificate), format: .der)
            let key = try NIOSSLPrivateKey(bytes: Array(server!.key.derRepresentation), format: .der)
            material = TLSMaterial(
                certificateChain: [leaf], privateKey: key,
                source: "the development certificate \(files.serverCertificate)",
                developmentCACertificatePath: files.caCertificate)
        } catch {
            throw HubServerError(.tlsMaterial, "cannot use the development certificate in \(files.directory)")
        }
        return Outcome(material: material, files: files, createdCA: createdCA, issuedServerCertificate: reason)
    }

    /// `standardNames` plus the hub's names.
    static func requiredNames(hostNames: [String]) -> Set<SubjectName> {
        Set((standardNames + hostNames).map(SubjectName.init))
    }

    /// A DNS name or an IP address, as it appears in a subject alternative name.
    enum SubjectName: Hashable {
        case dns(String)
        case ip([UInt8])

        init(_ text: String) {
            if let bytes = IPAddressBytes.parse(text) {
                self = .ip(bytes)
            } else {
                self = .dns(text.lowercased())
            }
        }

        var generalName: GeneralName {
            switch self {
            case .dns(let name): .dnsName(name)
            case .ip(let bytes): .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
            }
        }
    }

    static func names(of certificate: Certificate) -> Set<SubjectName> {
        guard let sans = try? certificate.extensions.subjectAlternativeNames else { return [] }
        var result: Set<SubjectName> = []
        for name in sans {
            switch name {
            case .dnsName(let dns): result.insert(.dns(dns.lowercased()))
            case .ipAddress(let octets): result.insert(.ip(Array(octets.bytes)))
            default: break
            }
        }
        return result
    }

    // MARK: - CA

    private static func loadOrCreateCA(
        _ files: Files, now: Date
    ) throws(HubServerError) -> (Certificate, P256.Signing.PrivateKey, created: Bool) {
        let haveCertificate = SecureFile.exists(files.caCertificate)
        let haveKey = SecureFile.exists(files.caKey)
        if haveCertificate != haveKey {
            let missing = haveCertificate ? files.caKey : files.caCertificate
            throw HubServerError(
                .tlsMaterial,
                "the development CA in \(files.directory) is incomplete (\(missing) is missing); "
                    + "move the directory away to create a new CA, which clients must then trust again")
        }
        if haveCertificate {
            guard let certificate = try? Certificate(pemEncoded: readText(files.caCertificate)),
                let key = try? P256.Signing.PrivateKey(pemRepresentation: readText(files.caKey)),
                Certificate.PublicKey(key.publicKey) == certificate.publicKey
            else {
                throw HubServerError(
                    .tlsMaterial,
                    "the development CA in \(files.directory) is damaged (ca.pem and ca.key unreadable or not a pair); "
                        + "move the directory away to create a new CA")
            }
            if certificate.notValidAfter.timeIntervalSince(now) >= renewalWindow {
                return (certificate, key, false)
            }
        }
        let key = P256.Signing.PrivateKey()
        do {
            let publicKey = Certificate.PublicKey(key.publicKey)
            let name = try DistinguishedName {
                OrganizationName("Meridian")
                CommonName("Meridian development CA \(shortID(of: publicKey))")
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-3600),  // tolerate clients with slightly slow clocks
                notValidAfter: now.addingTimeInterval(validityOfCA),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
            try write(key: key, to: files.caKey)
            try write(certificate: certificate, to: files.caCertificate)
            return (certificate, key, true)
        } catch let error as HubServerError {
            throw error
        } catch {
            throw HubServerError(.tlsMaterial, "cannot create the development CA in \(files.directory)")
        }
    }

    // MARK: - server certificate

    private enum LoadedServerCertificate {
        case missing
        case damaged
        case loaded(Certificate, P256.Signing.PrivateKey)
    }

    private static func loadServerCertificate(_ files: Files) -> LoadedServerCertificate {
        guard SecureFile.exists(files.serverCertificate) || SecureFile.exists(files.serverKey) else { return .missing }
        guard let certificate = try? Certificate(pemEncoded: readText(files.serverCertificate)),
            let key = try? P256.Signing.PrivateKey(pemRepresentation: readText(files.serverKey)),
            Certificate.PublicKey(key.publicKey) == certificate.publicKey
        else { return .damaged }
        return .loaded(certificate, key)
    }

    private static func issueServerCertificate(
        _ files: Files, ca: Certificate, caKey: P256.Signing.PrivateKey, names: Set<SubjectName>, now: Date
    ) throws(HubServerError) -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        do {
            let publicKey = Certificate.PublicKey(key.publicKey)
            // Stable order: the standard names first, then the host name.
            let ordered = (standardNames.map(SubjectName.init) + names.sorted { "\($0)" < "\($1)" })
            var seen: Set<SubjectName> = []
            let sans = ordered.filter { seen.insert($0).inserted }.map(\.generalName)
            let commonName: String = {
                for case .dns(let name) in names where name != "localhost" { return name }
                return "localhost"
            }()
            let subject = try DistinguishedName {
                OrganizationName("Meridian")
                CommonName(commonName)
            }
            let caKeyIdentifier = try? ca.extensions.subjectKeyIdentifier?.keyIdentifier
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(validityOfServerCertificate),
                issuer: ca.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(sans)
                    SubjectKeyIdentifier(hash: publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))
            try write(key: key, to: files.serverKey)
            try write(certificate: certificate, to: files.serverCertificate)
            return (certificate, key)
        } catch let error as HubServerError {
            throw error
        } catch {
            throw HubServerError(.tlsMaterial, "cannot issue the development server certificate in \(files.directory)")
        }
    }

    // MARK: - files

    private static func readText(_ path: String) throws -> String {
        String(decoding: try SecureFile.readAll(path), as: UTF8.self)
    }

    private static func write(key: P256.Signing.PrivateKey, to path: String) throws(HubServerError) {
        do {
            try SecureFile.writeAtomically(Array(key.pemRepresentation.utf8), to: path, mode: 0o600)
        } catch {
            throw HubServerError(.tlsMaterial, "cannot write \(path): \(SecureFile.describe(error))")
        }
    }

    private static func write(certificate: Certificate, to path: String) throws(HubServerError) {
        let pem: String
        do {
            pem = try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw HubServerError(.tlsMaterial, "cannot encode the certificate for \(path)")
        }
        do {
            try SecureFile.writeAtomically(Array(pem.utf8), to: path, mode: 0o644)
        } catch {
            throw HubServerError(.tlsMaterial, "cannot write \(path): \(SecureFile.describe(error))")
        }
    }

    private static func derBytes(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// 8 hex digits of the key's SHA-256, to tell development CAs apart.
    private static func shortID(of key: Certificate.PublicKey) -> String {
        let digest = SHA256.hash(data: Array(key.subjectPublicKeyInfoBytes))
        return digest.prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
