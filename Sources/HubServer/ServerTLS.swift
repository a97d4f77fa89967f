import NIOSSL

/// The TLS policy of every TLS listener (`mqtts`, `https`), in one place.
///
/// - TLS 1.2 and 1.3 only. NIOSSL's `makeServerConfiguration` defaults to TLS 1.0, so the minimum is set
///   explicitly (reliability plan S5; `ServerTLSTests` guards it with real `openssl s_client` handshakes).
/// - TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (AES-GCM, ChaCha20-Poly1305). No RSA key
///   exchange (no forward secrecy), no CBC (padding oracles), no 3DES or RC4. TLS 1.3 suites are all
///   AEAD and not configurable in BoringSSL.
/// - Renegotiation off.
/// - Client certificates are requested but optional: devices that authenticate with X.509 present one,
///   everyone else connects without. Presented certificates are *not* judged at the TLS layer by a trust
///   store (device certificates may be self-signed, or signed by CAs registered in the hub at run time);
///   see `PresentedClientCertificates`, which a listener must install so that they reach the hub's own
///   X.509 authentication. The TLS layer still proves possession of the key (CertificateVerify).
public enum ServerTLS {
    /// The TLS 1.2 cipher suites offered, in preference order.
    public static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// The server configuration for `material`.
    public static func configuration(for material: TLSMaterial) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: material.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(material.privateKey))
        configuration.minimumTLSVersion = .tlsv12  // the default is .tlsv1
        configuration.maximumTLSVersion = nil  // up to TLS 1.3
        configuration.cipherSuiteValues = tls12CipherSuites
        configuration.renegotiationSupport = .none
        // Request a client certificate without requiring one (SSL_VERIFY_PEER without
        // FAIL_IF_NO_PEER_CERT). With no trust roots, a presented certificate is refused unless the
        // handler installs `PresentedClientCertificates`' callback: fail closed.
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates([])
        configuration.sendCANameList = false
        return configuration
    }

    /// The `NIOSSLContext` every TLS listener shares.
    public static func makeContext(for material: TLSMaterial) throws(HubServerError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration(for: material))
        } catch {
            // BoringSSL's error stack names reasons (e.g. KEY_VALUES_MISMATCH), never key bytes.
            throw HubServerError(.tlsMaterial, "cannot set up TLS with \(material.source): \(error)")
        }
    }
}
