import Crypto
import Foundation
import HubTestKit
import NIOSSL
import SwiftASN1
import Testing
import X509

@testable import HubServer

@Suite("Development CA")
struct DevelopmentCATests {
    static func certificate(at path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    static func fileBytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test("first start creates a CA and a server certificate with private keys 0600")
    func creates() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        let outcome = try DevelopmentCA.ensure(files: files, hostName: "hub.example.com")
        #expect(outcome.createdCA)
        #expect(outcome.issuedServerCertificate == "none existed")
        #expect(files.directory == dir.appending("tls"))
        #expect(outcome.material.developmentCACertificatePath == files.caCertificate)
        #expect(try Self.mode(files.directory) == 0o700)
        #expect(try Self.mode(files.caKey) == 0o600)
        #expect(try Self.mode(files.serverKey) == 0o600)
        #expect(try Self.mode(files.caCertificate) == 0o644)

        let ca = try Self.certificate(at: files.caCertificate)
        let server = try Self.certificate(at: files.serverCertificate)
        // ECDSA P-256 keys that match their certificates.
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: files.caKey, encoding: .utf8))
        #expect(Certificate.PublicKey(caKey.publicKey) == ca.publicKey)
        #expect(P256.Signing.PublicKey(ca.publicKey) != nil)
        #expect(P256.Signing.PublicKey(server.publicKey) != nil)
        // The CA: a CA, self-signed, ~10 years.
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(ca.issuer == ca.subject)
        let year: TimeInterval = 365 * 24 * 3600
        #expect(abs(ca.notValidAfter.timeIntervalSinceNow - 10 * year) < 2 * 24 * 3600)
        // The server certificate: not a CA, serverAuth, ~1 year, the right names.
        #expect(try server.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(abs(server.notValidAfter.timeIntervalSinceNow - year) < 2 * 24 * 3600)
        let sans = try #require(try server.extensions.subjectAlternativeNames)
        #expect(sans.contains(.dnsName("localhost")))
        #expect(sans.contains(.dnsName("hub.example.com")))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(server.issuer == ca.subject)
    }

    @Test("the server certificate chains to the CA (swift-certificates Verifier and openssl verify)")
    func chains() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "hub.example.com")
        let ca = try Self.certificate(at: files.caCertificate)
        let server = try Self.certificate(at: files.serverCertificate)
        for host in ["localhost", "hub.example.com"] {
            var verifier = Verifier(rootCertificates: CertificateStore([ca])) {
                RFC5280Policy()
                ServerIdentityPolicy(serverHostname: host, serverIP: nil)
            }
            let result = await verifier.validate(leaf: server, intermediates: CertificateStore())
            guard case .validCertificate(let chain) = result else {
                Issue.record("no valid chain for \(host): \(result)")
                continue
            }
            #expect(chain.count == 2)
        }
        var wrongHost = Verifier(rootCertificates: CertificateStore([ca])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: "elsewhere.example", serverIP: nil)
        }
        guard case .couldNotValidate = await wrongHost.validate(leaf: server, intermediates: CertificateStore()) else {
            Issue.record("a name that is not in the certificate validated")
            return
        }
        let output = try await OpenSSL.succeed([
            "verify", "-CAfile", files.caCertificate, "-purpose", "sslserver", "-verify_hostname", "hub.example.com",
            files.serverCertificate,
        ])
        #expect(output.contains(": OK"))
        let ip = try await OpenSSL.succeed([
            "verify", "-CAfile", files.caCertificate, "-verify_ip", "::1", files.serverCertificate,
        ])
        #expect(ip.contains(": OK"))
    }

    @Test("a TLS client that trusts ca.pem verifies the hub end to end")
    func endToEnd() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        let outcome = try DevelopmentCA.ensure(files: files, hostName: "localhost")
        let server = try await TLSTestServer.start(
            context: try ServerTLS.makeContext(for: outcome.material), acceptPresentedCertificates: true)
        let trusted: OpenSSL.Handshake
        let untrusted: OpenSSL.Handshake
        do {
            trusted = try await OpenSSL.handshake(
                port: server.port,
                ["-CAfile", files.caCertificate, "-verify_return_error", "-verify_hostname", "localhost"])
            untrusted = try await OpenSSL.handshake(port: server.port, ["-verify_return_error"])
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
        #expect(trusted.succeeded, "\(trusted.result.output)")
        #expect(!untrusted.succeeded)
    }

    @Test("a second start reuses both certificates")
    func reuses() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "hub")
        let before = try [files.caCertificate, files.caKey, files.serverCertificate, files.serverKey].map(Self.fileBytes)
        let second = try DevelopmentCA.ensure(files: files, hostName: "hub")
        #expect(!second.createdCA)
        #expect(second.issuedServerCertificate == nil)
        let after = try [files.caCertificate, files.caKey, files.serverCertificate, files.serverKey].map(Self.fileBytes)
        #expect(before == after)
    }

    @Test("a new host name gets a new server certificate from the same CA")
    func reissuesForHostName() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "old.example")
        let ca = try Self.fileBytes(files.caCertificate)
        let outcome = try DevelopmentCA.ensure(files: files, hostName: "192.168.7.9")
        #expect(!outcome.createdCA)
        #expect(outcome.issuedServerCertificate == "the host name changed")
        #expect(try Self.fileBytes(files.caCertificate) == ca)
        let sans = try #require(try Self.certificate(at: files.serverCertificate).extensions.subjectAlternativeNames)
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [192, 168, 7, 9]))))
        #expect(!sans.contains(.dnsName("old.example")))
        #expect(try Self.mode(files.serverKey) == 0o600)
    }

    @Test("a server certificate expiring within 30 days is replaced")
    func reissuesNearExpiry() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "hub")
        let oldSerial = try Self.certificate(at: files.serverCertificate).serialNumber
        let inElevenMonths = Date().addingTimeInterval(340 * 24 * 3600)
        let outcome = try DevelopmentCA.ensure(files: files, hostName: "hub", now: inElevenMonths)
        #expect(outcome.issuedServerCertificate == "the old one expires within 30 days")
        #expect(!outcome.createdCA)
        let renewed = try Self.certificate(at: files.serverCertificate)
        #expect(renewed.serialNumber != oldSerial)
        #expect(renewed.notValidAfter > inElevenMonths.addingTimeInterval(360 * 24 * 3600))
    }

    @Test("damaged server files are replaced; a half-missing CA is an error")
    func damage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "hub")
        try "garbage".write(toFile: files.serverKey, atomically: false, encoding: .utf8)
        #expect(try DevelopmentCA.ensure(files: files, hostName: "hub").issuedServerCertificate == "the old files were damaged")
        try FileManager.default.removeItem(atPath: files.caKey)
        #expect {
            _ = try DevelopmentCA.ensure(files: files, hostName: "hub")
        } throws: { error in
            let message = "\(error)"
            return message.contains("is incomplete") && message.contains("ca.key is missing")
        }
    }

    @Test("a CA replaced by another one forces a new server certificate")
    func newCA() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = DevelopmentCA.Files(dataDirectory: dir.path)
        _ = try DevelopmentCA.ensure(files: files, hostName: "hub")
        let other = try TemporaryDirectory()
        defer { other.remove() }
        let otherFiles = DevelopmentCA.Files(dataDirectory: other.path)
        _ = try DevelopmentCA.ensure(files: otherFiles, hostName: "hub")
        for (from, to) in [(otherFiles.caCertificate, files.caCertificate), (otherFiles.caKey, files.caKey)] {
            try FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        #expect(try DevelopmentCA.ensure(files: files, hostName: "hub").issuedServerCertificate == "the CA changed")
    }
}
