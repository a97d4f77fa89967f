import Foundation
import HubServer
import MQTTBroker
import HubTestKit
import NIOSSL
import Testing

/// The TLS policy of the hub's listeners, checked with real handshakes from `openssl s_client`
/// against a bare NIO server using `ServerTLS`' context (reliability plan S5).
///
/// Refusals are only meaningful if the client really tried, so every "refused" test first shows the
/// same client command succeeding against a *control* server built with NIOSSL's own defaults
/// (`makeServerConfiguration`, which allows TLS 1.0 and CBC/RSA suites), then failing against ours.
@Suite("Server TLS policy")
struct ServerTLSTests {
    /// The OpenSSL 3 client refuses TLS 1.0/1.1 and weak suites at its default security level; level 0
    /// makes it really offer them.
    static let legacyClient = ["-cipher", "DEFAULT:@SECLEVEL=0"]

    static func ecMaterial(_ dir: TemporaryDirectory) throws -> TLSMaterial {
        try DevelopmentCA.ensure(files: .init(dataDirectory: dir.path), hostName: "localhost").material
    }

    static func rsaMaterial(_ dir: TemporaryDirectory) async throws -> TLSMaterial {
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "rsa", keyType: "rsa")
        return try TLSMaterial.load(certificatePath: certificate, keyPath: key)
    }

    static func controlContext(_ material: TLSMaterial) throws -> NIOSSLContext {
        try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: material.certificateChain.map { .certificate($0) },
                privateKey: .privateKey(material.privateKey)))
    }

    /// Runs `body` with our server and a control server on the same material.
    static func withServers(
        _ material: TLSMaterial, acceptPresentedCertificates: Bool = true,
        _ body: (_ ours: TLSTestServer, _ control: TLSTestServer) async throws -> Void
    ) async throws {
        let ours = try await TLSTestServer.start(
            context: try ServerTLS.makeContext(for: material), acceptPresentedCertificates: acceptPresentedCertificates)
        let control = try await TLSTestServer.start(
            context: try controlContext(material), acceptPresentedCertificates: acceptPresentedCertificates)
        do {
            try await body(ours, control)
        } catch {
            try? await ours.stop()
            try? await control.stop()
            throw error
        }
        try await ours.stop()
        try await control.stop()
    }

    /// Waits up to 5 s for the server to record `count` handshakes.
    static func recorded(_ server: TLSTestServer, count: Int = 1) async throws -> [TLSTestServer.Handshake] {
        for _ in 0..<100 where server.recorded.count < count {
            try await Task.sleep(for: .milliseconds(50))
        }
        return server.recorded
    }

    @Test("the configuration pins TLS 1.2+, AEAD suites, no renegotiation, optional client certificates")
    func configuration() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let configuration = ServerTLS.configuration(for: try Self.ecMaterial(dir))
        #expect(configuration.minimumTLSVersion == .tlsv12)
        #expect(configuration.maximumTLSVersion == nil)
        #expect(configuration.renegotiationSupport == .none)
        #expect(configuration.certificateVerification == .optionalVerification)
        // What BoringSSL actually enabled, TLS 1.3's fixed suites aside.
        let tls13: Set<NIOTLSCipher> = [.TLS_AES_128_GCM_SHA256, .TLS_AES_256_GCM_SHA384, .TLS_CHACHA20_POLY1305_SHA256]
        #expect(Set(configuration.cipherSuiteValues).subtracting(tls13) == Set(ServerTLS.tls12CipherSuites))
        // The regression this guards against: NIOSSL's own server default is TLS 1.0.
        let nioDefault = TLSConfiguration.makeServerConfiguration(
            certificateChain: configuration.certificateChain, privateKey: configuration.privateKey!)
        #expect(nioDefault.minimumTLSVersion == .tlsv1)
    }

    @Test("TLS 1.2 and TLS 1.3 handshakes succeed with forward-secret AEAD suites", arguments: [
        ("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3"),
    ])
    func modernVersions(option: String, version: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await Self.withServers(try Self.ecMaterial(dir)) { ours, _ in
            let handshake = try await OpenSSL.handshake(port: ours.port, [option])
            #expect(handshake.succeeded, "\(handshake.result.output)")
            #expect(handshake.protocolVersion == version)
            let cipher = try #require(handshake.cipher)
            if version == "TLSv1.2" {
                #expect(cipher.hasPrefix("ECDHE-") && (cipher.contains("GCM") || cipher.contains("CHACHA20")))
            } else {
                #expect(cipher.hasPrefix("TLS_"))
            }
            #expect(try await Self.recorded(ours) == [.completed(presentedChain: [])])
        }
    }

    @Test("TLS 1.0 and 1.1 are refused (while NIOSSL's default server accepts them)", arguments: [
        ("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1"),
    ])
    func legacyVersionsRefused(option: String, version: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await Self.withServers(try Self.ecMaterial(dir)) { ours, control in
            let proof = try await OpenSSL.handshake(port: control.port, [option] + Self.legacyClient)
            try #require(
                proof.succeeded && proof.protocolVersion == version,
                "the client did not really offer \(version): \(proof.result.output)")
            let refused = try await OpenSSL.handshake(port: ours.port, [option] + Self.legacyClient)
            #expect(!refused.succeeded, "\(version) was accepted: \(refused.result.output)")
            #expect(refused.result.exitCode != 0)
            #expect(try await Self.recorded(ours) == [.failed])
        }
    }

    @Test("CBC suites are refused in TLS 1.2", arguments: ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"])
    func cbcRefused(cipher: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await Self.withServers(try Self.ecMaterial(dir)) { ours, control in
            let options = ["-tls1_2", "-cipher", "\(cipher):@SECLEVEL=0"]
            let proof = try await OpenSSL.handshake(port: control.port, options)
            try #require(proof.succeeded && proof.cipher == cipher, "control did not negotiate \(cipher)")
            let refused = try await OpenSSL.handshake(port: ours.port, options)
            #expect(!refused.succeeded, "\(cipher) was accepted")
        }
    }

    @Test("RSA key exchange (and 3DES) is refused; ECDHE-RSA with AES-GCM works")
    func rsaKeyExchangeRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await Self.withServers(try await Self.rsaMaterial(dir)) { ours, control in
            for cipher in ["AES128-GCM-SHA256", "AES128-SHA"] {
                let options = ["-tls1_2", "-cipher", "\(cipher):@SECLEVEL=0"]
                let proof = try await OpenSSL.handshake(port: control.port, options)
                try #require(proof.succeeded && proof.cipher == cipher, "control did not negotiate \(cipher)")
                let refused = try await OpenSSL.handshake(port: ours.port, options)
                #expect(!refused.succeeded, "\(cipher) was accepted")
            }
            let tripleDES = try await OpenSSL.handshake(port: ours.port, ["-tls1_2", "-cipher", "DES-CBC3-SHA:@SECLEVEL=0"])
            #expect(!tripleDES.succeeded)
            let good = try await OpenSSL.handshake(port: ours.port, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])
            #expect(good.succeeded && good.cipher == "ECDHE-RSA-AES128-GCM-SHA256", "\(good.result.output)")
        }
    }

    @Test("a client certificate is requested but optional")
    func clientCertificateRequested() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await Self.withServers(try Self.ecMaterial(dir)) { ours, control in
            // s_client prints the CertificateRequest's certificate types only when it received one.
            let requested = try await OpenSSL.handshake(port: ours.port, ["-tls1_2"], brief: false)
            #expect(requested.succeeded)
            #expect(requested.result.output.contains("Client Certificate Types:"))
            let notRequested = try await OpenSSL.handshake(port: control.port, ["-tls1_2"], brief: false)
            #expect(notRequested.succeeded)
            #expect(!notRequested.result.output.contains("Client Certificate Types:"))
        }
    }

    @Test("a presented client certificate reaches the hub, self-signed or not", arguments: ["-tls1_2", "-tls1_3"])
    func presentedCertificateKept(option: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "device", commonName: "device-1")
        let der = try NIOSSLCertificate.fromPEMFile(certificate)[0].toDERBytes()
        try await Self.withServers(try Self.ecMaterial(dir)) { ours, _ in
            let handshake = try await OpenSSL.handshake(port: ours.port, [option, "-cert", certificate, "-key", key])
            #expect(handshake.succeeded, "\(handshake.result.output)")
            let recorded = try await Self.recorded(ours)
            #expect(recorded == [.completed(presentedChain: [der])], "\(recorded) \(handshake.result.output)")
        }
    }

    @Test("without PresentedClientCertificates a presented certificate is refused (fail closed)", arguments: [
        "-tls1_2", "-tls1_3",
    ])
    func presentedCertificateRefusedWithoutCallback(option: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "device")
        try await Self.withServers(try Self.ecMaterial(dir), acceptPresentedCertificates: false) { ours, _ in
            let handshake = try await OpenSSL.handshake(port: ours.port, [option, "-cert", certificate, "-key", key])
            if option == "-tls1_2" { #expect(!handshake.succeeded) }  // a 1.3 client finishes before the server judges
            #expect(try await Self.recorded(ours) == [.failed])
            // A client without a certificate still gets in.
            let plain = try await OpenSSL.handshake(port: ours.port, [option])
            #expect(plain.succeeded)
            #expect(try await Self.recorded(ours, count: 2) == [.failed, .completed(presentedChain: [])])
        }
    }
}
