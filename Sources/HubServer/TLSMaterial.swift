import Foundation
import NIOSSL
import X509

/// The certificate chain and private key the TLS listeners present, ready for `ServerTLS`.
public struct TLSMaterial: Sendable {
    /// Leaf first.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// Where it came from, for messages: `tls-cert /etc/meridian/cert.pem` or the development CA's file.
    public var source: String
    /// The development CA's certificate when the hub issued the server certificate itself; clients must
    /// trust this file.
    public var developmentCACertificatePath: String?
    /// Things worth a warning in the log (a group-readable key, an expired certificate …).
    public var warnings: [String] = []

    public init(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, source: String,
        developmentCACertificatePath: String? = nil, warnings: [String] = []
    ) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.source = source
        self.developmentCACertificatePath = developmentCACertificatePath
        self.warnings = warnings
    }

    /// Loads `tls-cert` and `tls-key`. Errors name the file and what is wrong with it, never its content.
    public static func load(
        certificatePath: String, keyPath: String, now: Date = Date()
    ) throws(HubServerError) -> TLSMaterial {
        func fail(_ text: String) -> HubServerError { HubServerError(.tlsMaterial, text) }
        let certificateBytes = try read(certificatePath, key: "tls-cert")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw fail("tls-cert \(certificatePath) is not a valid PEM certificate file")
        }
        guard let leafNIO = chain.first else {
            throw fail("tls-cert \(certificatePath) holds no PEM certificate")
        }
        let keyBytes = try read(keyPath, key: "tls-key")
        let keyText = String(decoding: keyBytes, as: UTF8.self)
        if keyText.contains("ENCRYPTED") {
            throw fail("tls-key \(keyPath) is encrypted; give an unencrypted key and protect it with file permissions")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw fail("tls-key \(keyPath) is not a valid PEM private key")
        }

        var warnings: [String] = []
        // Check the pair with swift-certificates when it understands the key (P-256/384/521, RSA,
        // Ed25519); otherwise BoringSSL's own check at context creation catches a mismatch.
        if let leaf = try? Certificate(derEncoded: leafNIO.toDERBytes()) {
            if let parsedKey = try? Certificate.PrivateKey(pemEncoded: keyText), parsedKey.publicKey != leaf.publicKey {
                throw fail("tls-key \(keyPath) does not belong to the certificate in tls-cert \(certificatePath)")
            }
            if leaf.notValidAfter < now {
                warnings.append("the certificate in tls-cert \(certificatePath) expired on \(leaf.notValidAfter)")
            } else if leaf.notValidBefore > now {
                warnings.append("the certificate in tls-cert \(certificatePath) is not valid before \(leaf.notValidBefore)")
            }
        }
        if let mode = SecureFile.mode(of: keyPath), mode & 0o077 != 0 {
            warnings.append(
                "tls-key \(keyPath) is readable by other users (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        let material = TLSMaterial(
            certificateChain: chain, privateKey: key, source: "tls-cert \(certificatePath)", warnings: warnings)
        _ = try ServerTLS.makeContext(for: material)  // BoringSSL's own checks, with a clear error
        return material
    }

    private static func read(_ path: String, key: String) throws(HubServerError) -> [UInt8] {
        do {
            return try SecureFile.readAll(path)
        } catch {
            throw HubServerError(.tlsMaterial, "cannot read \(key) \(path): \(SecureFile.describe(error))")
        }
    }
}
