import Crypto
import Foundation
import HubAuth
import HubCore
import HubRegistry
import HubStorage
import SwiftASN1
import Testing
import X509

/// CA certificates and MQTT users: these call HubAuth's `X509DeviceVerifier` and `PasswordHasher`.
@Suite("DeviceRegistry: CA certificates and users")
struct RegistryCertificateAndUserTests {
    // MARK: CA certificates

    @Test("a registered CA starts unverified with a verification code and its thumbprint", arguments: Backend.allCases)
    func addCertificate(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let ca = try TestCA(name: "Fleet Root")
        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        let added = try await env.registry.addCertificate(name: "fleet-root", pem: ca.pem)
        #expect(!added.isVerified)
        let code = try #require(added.verificationCode)
        #expect(code.count == 32 && code.allSatisfy(\.isHexDigit))
        #expect(added.thumbprint == ca.sha256Thumbprint)
        #expect(added.subject.contains("Fleet Root"))
        #expect(added.notBefore < added.notAfter)
        #expect(added.created == env.clock.now())
        #expect(env.registry.verifiedCertificates().isEmpty)
        #expect(try await env.registry.certificate(named: "fleet-root") == added)
        #expect(try await env.registry.certificates() == [added])
        #expect(log.changes == [.certificateUpdated(name: "fleet-root", current: added)])

        await expectRegistryError(.certificateAlreadyExists) { _ = try await env.registry.addCertificate(name: "fleet-root", pem: ca.pem) }
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.addCertificate(name: "junk", pem: "not a certificate") }
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.addCertificate(name: "leaf", pem: try ca.leafPEM(commonName: "dev1")) }
        for badName in ["", "tab\there", "nul\u{0}", String(repeating: "n", count: 300)] {
            await expectRegistryError(.invalidArgument) { _ = try await env.registry.addCertificate(name: badName, pem: ca.pem) }
        }
        await expectRegistryError(.certificateNotFound) { _ = try await env.registry.certificate(named: "absent") }
    }

    @Test("proof of possession verifies the CA; wrong codes and keys are refused", arguments: Backend.allCases)
    func verify(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let ca = try TestCA(name: "Root")
        let stranger = try TestCA(name: "Root")
        let added = try await env.registry.addCertificate(name: "root", pem: ca.pem)
        let code = try #require(added.verificationCode)

        await expectRegistryError(.invalidArgument) {
            _ = try await env.registry.verifyCertificate(name: "root", proofPEM: try ca.leafPEM(commonName: "wrong-code"), ifMatch: nil)
        }
        await expectRegistryError(.invalidArgument) {
            _ = try await env.registry.verifyCertificate(name: "root", proofPEM: try stranger.leafPEM(commonName: code), ifMatch: nil)
        }
        await expectRegistryError(.preconditionFailed) {
            _ = try await env.registry.verifyCertificate(name: "root", proofPEM: try ca.leafPEM(commonName: code), ifMatch: "stale")
        }
        #expect(try await env.registry.certificate(named: "root") == added, "failed attempts change nothing")

        let verified = try await env.registry.verifyCertificate(name: "root", proofPEM: try ca.leafPEM(commonName: code), ifMatch: "\"\(added.etag)\"")
        #expect(verified.isVerified)
        #expect(verified.etag != added.etag)
        #expect(env.registry.verifiedCertificates() == [verified])
        // A new code keeps the CA verified and invalidates the old code.
        let regenerated = try await env.registry.generateVerificationCode(name: "root", ifMatch: "*")
        #expect(regenerated.verificationCode != nil && regenerated.verificationCode != code)
        #expect(regenerated.isVerified)
        await expectRegistryError(.preconditionFailed) { _ = try await env.registry.generateVerificationCode(name: "root", ifMatch: verified.etag) }
        await expectRegistryError(.certificateNotFound) { _ = try await env.registry.generateVerificationCode(name: "nope", ifMatch: nil) }

        // Verified CAs are loaded by bootstrap in a new registry over the same stores.
        let restarted = DeviceRegistry(
            store: env.stores.registry, policies: env.stores.policies, certificates: env.stores.certificates, users: env.stores.users,
            logger: .init(label: "test"))
        #expect(restarted.verifiedCertificates().isEmpty)
        try await restarted.bootstrap(ownerKey: nil)
        #expect(restarted.verifiedCertificates().map(\.name) == ["root"])

        let log = ChangeLog()
        env.registry.observe { log.append($0) }
        await expectRegistryError(.preconditionFailed) { try await env.registry.deleteCertificate(named: "root", ifMatch: added.etag) }
        try await env.registry.deleteCertificate(named: "root", ifMatch: "*")
        #expect(env.registry.verifiedCertificates().isEmpty)
        #expect(log.changes == [.certificateUpdated(name: "root", current: nil)])
        await expectRegistryError(.certificateNotFound) { try await env.registry.deleteCertificate(named: "root", ifMatch: nil) }
    }

    // MARK: users

    @Test("putUser hashes the password with scrypt; create, update, keep the hash, delete", arguments: Backend.allCases)
    func users(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let rules = [ACLRule(pattern: "sensors/%u/#", actions: .publish), ACLRule(pattern: "#", actions: .all, allow: false)]
        let created = try await env.registry.putUser(username: "gateway", password: "correct horse", rules: rules, ifMatch: nil)
        #expect(created.passwordHash.hasPrefix("$scrypt$ln=4,r=8,p=1$"), "hashed with the configured cost")
        #expect(DeviceRegistry.Configuration().passwordHashing == PasswordHasher.Parameters(logN: 17, r: 8, p: 1), "OWASP by default")
        #expect(!created.passwordHash.contains("correct horse"))
        #expect(PasswordHasher.verify(password: "correct horse", hash: created.passwordHash))
        #expect(!PasswordHasher.verify(password: "wrong", hash: created.passwordHash))
        #expect(created.rules == rules)
        #expect(env.registry.cachedUser(named: "gateway") == created)
        #expect(try await env.stores.users.user(named: "gateway") == created)

        await expectRegistryError(.userAlreadyExists) {
            _ = try await env.registry.putUser(username: "gateway", password: "x", rules: [], ifMatch: nil)
        }
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.putUser(username: "nopass", password: nil, rules: [], ifMatch: nil) }
        await expectRegistryError(.userNotFound) { _ = try await env.registry.putUser(username: "ghost", password: "x", rules: [], ifMatch: "*") }
        await expectRegistryError(.preconditionFailed) {
            _ = try await env.registry.putUser(username: "gateway", password: nil, rules: [], ifMatch: "stale")
        }

        // nil password keeps the hash; rules are replaced; new etag.
        let updated = try await env.registry.putUser(username: "gateway", password: nil, rules: [], ifMatch: "\"\(created.etag)\"")
        #expect(updated.passwordHash == created.passwordHash)
        #expect(updated.rules.isEmpty)
        #expect(updated.etag != created.etag)
        #expect(env.registry.cachedUser(named: "gateway") == updated)
        let repassworded = try await env.registry.putUser(username: "gateway", password: "new secret", rules: rules, ifMatch: "*")
        #expect(PasswordHasher.verify(password: "new secret", hash: repassworded.passwordHash))
        #expect(try await env.registry.user(named: "gateway") == repassworded)

        try await env.registry.deleteUser(named: "gateway", ifMatch: repassworded.etag)
        #expect(env.registry.cachedUser(named: "gateway") == nil)
        #expect(await env.registry.loadUser(named: "gateway") == nil)
        await expectRegistryError(.userNotFound) { _ = try await env.registry.user(named: "gateway") }
        await expectRegistryError(.userNotFound) { try await env.registry.deleteUser(named: "gateway", ifMatch: nil) }
    }

    @Test("usernames are byte-exact: canonically equivalent names are two users; bad names and rules are refused", arguments: Backend.allCases)
    func usernames(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let composed = try await env.registry.putUser(username: "caf\u{E9}", password: "one", rules: [], ifMatch: nil)
        let decomposed = try await env.registry.putUser(username: "cafe\u{301}", password: "two", rules: [], ifMatch: nil)
        #expect(try await env.registry.users().count == 2)
        #expect(env.registry.cachedUser(named: "caf\u{E9}")?.etag == composed.etag)
        #expect(env.registry.cachedUser(named: "cafe\u{301}")?.etag == decomposed.etag)
        let loaded = await env.registry.loadUser(named: "cafe\u{301}")
        #expect(loaded.map { PasswordHasher.verify(password: "two", hash: $0.passwordHash) } == true)
        try await env.registry.deleteUser(named: "caf\u{E9}", ifMatch: nil)
        #expect(env.registry.cachedUser(named: "cafe\u{301}") != nil)
        #expect(try await env.registry.users().map { Array($0.username.utf8) } == [Array("cafe\u{301}".utf8)])

        for bad in ["", "nul\u{0}", "line\nbreak", String(repeating: "u", count: 257)] {
            await expectRegistryError(.invalidArgument) { _ = try await env.registry.putUser(username: bad, password: "p", rules: [], ifMatch: nil) }
        }
        await expectRegistryError(.invalidArgument) { _ = try await env.registry.putUser(username: "u", password: "", rules: [], ifMatch: nil) }
        await expectRegistryError(.invalidArgument) {
            _ = try await env.registry.putUser(username: "u", password: "p", rules: [ACLRule(pattern: "", actions: .all)], ifMatch: nil)
        }
        await expectRegistryError(.invalidArgument) {
            _ = try await env.registry.putUser(username: "u", password: "p", rules: [ACLRule(pattern: "a", actions: .init(rawValue: 8))], ifMatch: nil)
        }
        // The quotes, semicolons and wildcards of S11 are fine in usernames.
        let awkward = "o'brien; --%_\"x\""
        _ = try await env.registry.putUser(username: awkward, password: "p", rules: [], ifMatch: nil)
        #expect(try await env.registry.user(named: awkward).username.utf8.elementsEqual(awkward.utf8))
    }

    @Test("user changes reach observers after the cache", arguments: [Backend.inMemory])
    func userFeed(_ backend: Backend) async throws {
        let env = try backend.make()
        defer { env.cleanUp() }
        let registry = env.registry
        let log = ChangeLog()
        registry.observe { change in
            if case .userUpdated(let name, let current) = change {
                #expect(registry.cachedUser(named: name) == current)
            }
            log.append(change)
        }
        let user = try await registry.putUser(username: "u", password: "p", rules: [], ifMatch: nil)
        try await registry.deleteUser(named: "u", ifMatch: nil)
        #expect(log.changes == [.userUpdated(username: "u", current: user), .userUpdated(username: "u", current: nil)])
    }
}

/// A throwaway CA made with swift-certificates: its PEM, and leaf certificates it signs.
struct TestCA {
    let key = P256.Signing.PrivateKey()
    let certificate: Certificate
    let name: DistinguishedName

    init(name commonName: String) throws {
        let now = Date()
        name = try DistinguishedName {
            OrganizationName("Meridian tests")
            CommonName(commonName)
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400 * 30),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    var pem: String { try! certificate.serializeAsPEM().pemString }

    var sha256Thumbprint: String {
        var serializer = DER.Serializer()
        try! serializer.serialize(certificate)
        return SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02X", $0) }.joined()
    }

    /// A certificate with subject CN `commonName`, signed by this CA (a proof of possession when the CN
    /// is the verification code).
    func leafPEM(commonName: String) throws -> String {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: name, subject: try DistinguishedName { CommonName(commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try leaf.serializeAsPEM().pemString
    }
}
