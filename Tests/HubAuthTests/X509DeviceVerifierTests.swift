import Crypto
import Foundation
import HubAuth
import HubCore
import Testing
import X509

@Suite("X.509 device authentication")
struct X509DeviceVerifierTests {
    let now = TestPKI.nowStamp

    // MARK: thumbprints

    @Test("thumbprints are SHA-1 and SHA-256 of the DER, upper-case hex")
    func thumbprints() {
        let der: [UInt8] = Array("abc".utf8)
        let (sha1, sha256) = X509DeviceVerifier.thumbprints(der: der)
        #expect(sha1 == "A9993E364706816ABA3E25717850C26C9CD0D89D")
        #expect(sha256 == "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
    }

    @Test("selfSigned: primary or secondary thumbprint, SHA-1 or SHA-256, any case or separators")
    func selfSignedAccepted() throws {
        let leaf = TestPKI.certificate(cn: "dev1", eku: [.clientAuth])
        let (sha1, sha256) = X509DeviceVerifier.thumbprints(der: leaf.der)
        #expect(try X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: sha1, secondary: nil, now: now))
        #expect(try X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: sha256.lowercased(), secondary: nil, now: now))
        #expect(try !X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: "00", secondary: sha256, now: now))
        let colons = stride(from: 0, to: sha1.count, by: 2).map { i in
            String(sha1.dropFirst(i).prefix(2))
        }.joined(separator: ":").lowercased()
        #expect(try X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: nil, secondary: colons, now: now) == false)
        // No EKU extension at all is fine too.
        let plain = TestPKI.certificate(cn: "dev1")
        #expect(try X509DeviceVerifier.verifyThumbprint(chainDER: [plain.der], primary: X509DeviceVerifier.thumbprints(der: plain.der).sha1, secondary: nil, now: now))
    }

    @Test("selfSigned refusals")
    func selfSignedRefused() {
        let leaf = TestPKI.certificate(cn: "dev1", eku: [.clientAuth])
        let sha1 = X509DeviceVerifier.thumbprints(der: leaf.der).sha1
        let other = TestPKI.certificate(cn: "dev1", eku: [.clientAuth])
        #expect(throws: X509AuthError(.thumbprintMismatch)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [other.der], primary: sha1, secondary: nil, now: now)
        }
        #expect(throws: X509AuthError(.thumbprintMismatch)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: nil, secondary: nil, now: now)
        }
        #expect(throws: X509AuthError(.thumbprintMismatch)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [leaf.der], primary: String(sha1.dropLast()), secondary: "not hex", now: now)
        }
        #expect(throws: X509AuthError(.noCertificate)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [], primary: sha1, secondary: nil, now: now)
        }
        #expect(throws: X509AuthError(.unparsable)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [Array(leaf.der.dropLast())], primary: sha1, secondary: nil, now: now)
        }
        let expired = TestPKI.certificate(cn: "dev1", notBefore: TestPKI.now - 10 * TestPKI.day, notAfter: TestPKI.now - TestPKI.day)
        #expect(throws: X509AuthError(.expired)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [expired.der], primary: X509DeviceVerifier.thumbprints(der: expired.der).sha1, secondary: nil, now: now)
        }
        let future = TestPKI.certificate(cn: "dev1", notBefore: TestPKI.now + TestPKI.day, notAfter: TestPKI.now + 10 * TestPKI.day)
        #expect(throws: X509AuthError(.notYetValid)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [future.der], primary: X509DeviceVerifier.thumbprints(der: future.der).sha1, secondary: nil, now: now)
        }
        let server = TestPKI.certificate(cn: "dev1", eku: [.serverAuth])
        #expect(throws: X509AuthError(.wrongExtendedKeyUsage)) {
            try X509DeviceVerifier.verifyThumbprint(chainDER: [server.der], primary: X509DeviceVerifier.thumbprints(der: server.der).sha1, secondary: nil, now: now)
        }
    }

    // MARK: CA chains

    @Test("CA-signed leaves are accepted, directly or through a CA:TRUE intermediate")
    func chainAccepted() async throws {
        let root = TestPKI.rootCA()
        let otherRoot = TestPKI.rootCA("Other Root")
        let leaf = TestPKI.certificate(cn: "dev1", issuer: root, eku: [.clientAuth, .serverAuth])
        #expect(try await X509DeviceVerifier.verifyChain(chainDER: [leaf.der], deviceID: "dev1", trustedCAPEMs: [otherRoot.pem, root.pem], now: now) == root.pem)

        let intermediate = TestPKI.certificate(cn: "Intermediate", issuer: root, constraint: .ca)
        let deep = TestPKI.certificate(cn: "dev2", issuer: intermediate)
        #expect(try await X509DeviceVerifier.verifyChain(chainDER: [deep.der, intermediate.der], deviceID: "dev2", trustedCAPEMs: [root.pem], now: now) == root.pem)
        // The intermediate itself may be the registered CA.
        #expect(try await X509DeviceVerifier.verifyChain(chainDER: [deep.der], deviceID: "dev2", trustedCAPEMs: ["garbage", intermediate.pem], now: now) == intermediate.pem)
    }

    @Test("CA chain refusals each have their code")
    func chainRefused() async {
        let root = TestPKI.rootCA()
        func verify(_ chain: [TestIssuer], _ id: String = "dev1", trusted: [String]? = nil) async throws(X509AuthError) {
            _ = try await X509DeviceVerifier.verifyChain(chainDER: chain.map(\.der), deviceID: id, trustedCAPEMs: trusted ?? [root.pem], now: now)
        }
        let expired = TestPKI.certificate(cn: "dev1", issuer: root, notBefore: TestPKI.now - 10 * TestPKI.day, notAfter: TestPKI.now - 1)
        await #expect(throws: X509AuthError(.expired)) { try await verify([expired]) }
        let future = TestPKI.certificate(cn: "dev1", issuer: root, notBefore: TestPKI.now + 60, notAfter: TestPKI.now + TestPKI.day)
        await #expect(throws: X509AuthError(.notYetValid)) { try await verify([future]) }
        let server = TestPKI.certificate(cn: "dev1", issuer: root, eku: [.serverAuth])
        await #expect(throws: X509AuthError(.wrongExtendedKeyUsage)) { try await verify([server]) }
        let leaf = TestPKI.certificate(cn: "dev1", issuer: root)
        await #expect(throws: X509AuthError(.subjectMismatch)) { try await verify([leaf], "dev2") }
        await #expect(throws: X509AuthError(.subjectMismatch)) { try await verify([leaf], "DEV1") }
        await #expect(throws: X509AuthError(.subjectMismatch)) { try await verify([TestPKI.certificate(cn: "dev\u{212A}", issuer: root)], "devK") }
        let stranger = TestPKI.certificate(cn: "dev1", issuer: TestPKI.rootCA())
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([stranger]) }
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([leaf], trusted: []) }
        let selfSigned = TestPKI.certificate(cn: "dev1")
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([selfSigned]) }
        // Same subject and issuer name as a trusted CA's child, but signed by another key.
        let impostorCA = TestIssuer(key: P256.Signing.PrivateKey(), certificate: root.certificate)
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([TestPKI.certificate(cn: "dev1", issuer: impostorCA)]) }
        // Intermediates without CA:TRUE: presented, or found by path building.
        for constraint in [TestPKI.Constraint.notCA, .absent] {
            let intermediate = TestPKI.certificate(cn: "Not a CA", issuer: root, constraint: constraint)
            let below = TestPKI.certificate(cn: "dev1", issuer: intermediate)
            await #expect(throws: X509AuthError(.notACertificateAuthority)) { try await verify([below, intermediate]) }
            await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([below], trusted: [root.pem, intermediate.pem]) }
        }
        // A trusted root that is not a CA cannot issue.
        let notCARoot = TestPKI.certificate(cn: "Plain", constraint: .notCA)
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([TestPKI.certificate(cn: "dev1", issuer: notCARoot)], trusted: [notCARoot.pem]) }
        // An expired root.
        let oldRoot = TestPKI.certificate(cn: "Old Root", constraint: .ca, notBefore: TestPKI.now - 10 * TestPKI.day, notAfter: TestPKI.now - TestPKI.day)
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify([TestPKI.certificate(cn: "dev1", issuer: oldRoot)], trusted: [oldRoot.pem]) }
        // Expired intermediate.
        let oldIntermediate = TestPKI.certificate(cn: "Old", issuer: root, constraint: .ca, notBefore: TestPKI.now - 10 * TestPKI.day, notAfter: TestPKI.now - TestPKI.day)
        await #expect(throws: X509AuthError(.expired)) { try await verify([TestPKI.certificate(cn: "dev1", issuer: oldIntermediate), oldIntermediate]) }
        await #expect(throws: X509AuthError(.noCertificate)) { try await verify([]) }
        await #expect(throws: X509AuthError(.untrustedChain)) { try await verify(Array(repeating: leaf, count: 9)) }
    }

    @Test("the leaf needs exactly one CN")
    func twoCommonNames() async {
        let root = TestPKI.rootCA()
        let key = P256.Signing.PrivateKey()
        let subject = try! DistinguishedName {
            CommonName("dev1")
            CommonName("dev2")
        }
        let leaf = try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: TestPKI.now - 60, notValidAfter: TestPKI.now + 600,
            issuer: root.name, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: .init(root.key))
        await #expect(throws: X509AuthError(.subjectMismatch)) {
            _ = try await X509DeviceVerifier.verifyChain(chainDER: [TestPKI.der(leaf)], deviceID: "dev1", trustedCAPEMs: [root.pem], now: now)
        }
    }

    // MARK: CA registration

    @Test("inspectCA reads a CA and refuses non-CAs and bundles")
    func inspect() throws {
        let root = TestPKI.rootCA("Inspect Me")
        let info = try X509DeviceVerifier.inspectCA(pem: root.pem)
        #expect(info.subject == "CN=Inspect Me")
        #expect(info.thumbprintSHA256 == X509DeviceVerifier.thumbprints(der: root.der).sha256)
        #expect(abs(info.notBefore.rawValue - (now.rawValue - 86_400_000)) < 2_000)
        #expect(info.notAfter > info.notBefore)
        #expect(throws: X509AuthError(.notACertificateAuthority)) { try X509DeviceVerifier.inspectCA(pem: TestPKI.certificate(cn: "leaf").pem) }
        #expect(throws: X509AuthError(.notACertificateAuthority)) { try X509DeviceVerifier.inspectCA(pem: TestPKI.certificate(cn: "leaf", constraint: .notCA).pem) }
        #expect(throws: X509AuthError(.unparsable)) { try X509DeviceVerifier.inspectCA(pem: root.pem + "\n" + root.pem) }
        #expect(throws: X509AuthError(.unparsable)) { try X509DeviceVerifier.inspectCA(pem: "") }
        #expect(throws: X509AuthError(.unparsable)) { try X509DeviceVerifier.inspectCA(pem: root.pem.replacingOccurrences("CERTIFICATE", "PUBLIC KEY")) }
        #expect(throws: X509AuthError(.unparsable)) { try X509DeviceVerifier.inspectCA(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----") }
    }

    @Test("proof of possession: the code as CN, signed by the CA's key, currently valid")
    func proofOfPossession() throws {
        let root = TestPKI.rootCA()
        let code = "6F1C2D8E0A"
        let proof = TestPKI.certificate(cn: code, issuer: root)
        try X509DeviceVerifier.verifyProofOfPossession(proofPEM: proof.pem, caPEM: root.pem, verificationCode: code, now: now)

        #expect(throws: X509AuthError(.subjectMismatch)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: proof.pem, caPEM: root.pem, verificationCode: "6F1C2D8E0B", now: now)
        }
        let wrongCN = TestPKI.certificate(cn: "something else", issuer: root)
        #expect(throws: X509AuthError(.subjectMismatch)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: wrongCN.pem, caPEM: root.pem, verificationCode: code, now: now)
        }
        // Same issuer name, another key.
        let forged = TestPKI.certificate(cn: code, issuer: TestIssuer(key: P256.Signing.PrivateKey(), certificate: root.certificate))
        #expect(throws: X509AuthError(.untrustedChain)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: forged.pem, caPEM: root.pem, verificationCode: code, now: now)
        }
        let selfSigned = TestPKI.certificate(cn: code)
        #expect(throws: X509AuthError(.untrustedChain)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: selfSigned.pem, caPEM: root.pem, verificationCode: code, now: now)
        }
        let expired = TestPKI.certificate(cn: code, issuer: root, notBefore: TestPKI.now - 10 * TestPKI.day, notAfter: TestPKI.now - 1)
        #expect(throws: X509AuthError(.expired)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: expired.pem, caPEM: root.pem, verificationCode: code, now: now)
        }
        #expect(throws: X509AuthError(.unparsable)) {
            try X509DeviceVerifier.verifyProofOfPossession(proofPEM: "nope", caPEM: root.pem, verificationCode: code, now: now)
        }
    }
}
