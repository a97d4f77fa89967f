import Crypto
import Foundation
import HubCore
import SwiftASN1
import X509

/// Certificates made at test time with P-256 keys (no key material is committed).
struct TestIssuer {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate

    var name: DistinguishedName { certificate.subject }
    var pem: String { TestPKI.pem(certificate) }
    var der: [UInt8] { TestPKI.der(certificate) }
}

enum TestPKI {
    static let now = Date()
    static var nowStamp: Timestamp { Timestamp(rawValue: Int64(now.timeIntervalSince1970 * 1000)) }
    static let day: TimeInterval = 86_400

    enum Constraint { case ca, notCA, absent }

    static func certificate(
        cn: String, key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(), issuer: TestIssuer? = nil, constraint: Constraint = .absent,
        eku: [ExtendedKeyUsage.Usage]? = nil, notBefore: Date = now - day, notAfter: Date = now + 30 * day, version: Certificate.Version = .v3
    ) -> TestIssuer {
        let subject = try! DistinguishedName { CommonName(cn) }
        var extensions: [Certificate.Extension] = []
        switch constraint {
        case .ca: extensions.append(try! Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true))
        case .notCA: extensions.append(try! Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
        case .absent: break
        }
        if let eku { extensions.append(try! Certificate.Extension(ExtendedKeyUsage(eku), critical: false)) }
        let certificate = try! Certificate(
            version: version, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: issuer?.name ?? subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try! Certificate.Extensions(extensions), issuerPrivateKey: .init(issuer?.key ?? key))
        return TestIssuer(key: key, certificate: certificate)
    }

    static func rootCA(_ cn: String = "Meridian Test Root") -> TestIssuer { certificate(cn: cn, constraint: .ca) }

    static func der(_ certificate: Certificate) -> [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func pem(_ certificate: Certificate) -> String { try! certificate.serializeAsPEM().pemString }
}
