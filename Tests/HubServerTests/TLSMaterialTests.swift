import Foundation
import HubServer
import HubTestKit
import NIOSSL
import Testing

@Suite("TLS material from tls-cert and tls-key")
struct TLSMaterialTests {
    static func expectFailure(
        certificate: String, key: String, _ expected: String, notContaining secrets: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try TLSMaterial.load(certificatePath: certificate, keyPath: key)
            Issue.record("loading succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .tlsMaterial, sourceLocation: sourceLocation)
            #expect(error.message == expected, sourceLocation: sourceLocation)
            for secret in secrets {
                #expect(!error.message.contains(secret), "the message leaks key material", sourceLocation: sourceLocation)
            }
        }
    }

    /// Lines of base64 from a PEM key file: what must never appear in messages.
    static func keyLines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("-----") }.map(String.init)
    }

    @Test("valid EC and RSA pairs load", arguments: ["ec", "rsa"])
    func valid(keyType: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "server", keyType: keyType)
        chmod(key, 0o600)
        let material = try TLSMaterial.load(certificatePath: certificate, keyPath: key)
        #expect(material.certificateChain.count == 1)
        #expect(material.warnings.isEmpty)
        #expect(material.source == "tls-cert \(certificate)")
        _ = try ServerTLS.makeContext(for: material)
    }

    @Test("a chain keeps its order: leaf first")
    func chain() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (leaf, key) = try await OpenSSL.selfSigned(in: dir, name: "leaf")
        let (other, _) = try await OpenSSL.selfSigned(in: dir, name: "other")
        let chain = dir.appending("chain.pem")
        try (String(contentsOfFile: leaf, encoding: .utf8) + String(contentsOfFile: other, encoding: .utf8))
            .write(toFile: chain, atomically: false, encoding: .utf8)
        let material = try TLSMaterial.load(certificatePath: chain, keyPath: key)
        #expect(material.certificateChain.count == 2)
        #expect(try material.certificateChain[0].toDERBytes() == NIOSSLCertificate.fromPEMFile(leaf)[0].toDERBytes())
    }

    @Test("missing, unreadable and invalid files are named")
    func badFiles() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "server")
        let secrets = try Self.keyLines(key)
        Self.expectFailure(
            certificate: dir.appending("nope.pem"), key: key,
            "cannot read tls-cert \(dir.appending("nope.pem")): no such file or directory")
        Self.expectFailure(certificate: certificate, key: dir.path, "cannot read tls-key \(dir.path): is a directory")
        let garbage = dir.appending("garbage.pem")
        try "not a certificate".write(toFile: garbage, atomically: false, encoding: .utf8)
        Self.expectFailure(certificate: garbage, key: key, "tls-cert \(garbage) is not a valid PEM certificate file")
        Self.expectFailure(certificate: certificate, key: garbage, "tls-key \(garbage) is not a valid PEM private key")
        // The key file given as the certificate: no certificate in it, and no key bytes in the message.
        Self.expectFailure(
            certificate: key, key: key, "tls-cert \(key) is not a valid PEM certificate file", notContaining: secrets)
    }

    @Test("a key that does not belong to the certificate is refused", arguments: ["ec", "rsa"])
    func mismatch(keyType: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, _) = try await OpenSSL.selfSigned(in: dir, name: "a", keyType: keyType)
        let (_, otherKey) = try await OpenSSL.selfSigned(in: dir, name: "b", keyType: keyType)
        Self.expectFailure(
            certificate: certificate, key: otherKey,
            "tls-key \(otherKey) does not belong to the certificate in tls-cert \(certificate)",
            notContaining: try Self.keyLines(otherKey))
    }

    @Test("an encrypted key is refused with a reason")
    func encrypted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "server")
        let encrypted = dir.appending("encrypted.key")
        try await OpenSSL.succeed(["pkey", "-in", key, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        Self.expectFailure(
            certificate: certificate, key: encrypted,
            "tls-key \(encrypted) is encrypted; give an unencrypted key and protect it with file permissions")
    }

    @Test("a key readable by others is loaded with a warning")
    func looseKeyPermissions() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (certificate, key) = try await OpenSSL.selfSigned(in: dir, name: "server")
        chmod(key, 0o644)
        let material = try TLSMaterial.load(certificatePath: certificate, keyPath: key)
        #expect(material.warnings == ["tls-key \(key) is readable by other users (mode 644); chmod 600 it"])
    }
}
