import HubCore
import HubStorage
import Testing

/// The one test suite every `CertificateStore` backend must pass (see `RegistryStoreConformance`).
public enum CertificateStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case roundTripInNameOrder
        case duplicateIsRefused
        case replaceComparesEtags
        case deleteComparesEtags
        case awkwardNamesStayDistinct
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on fixture: some IdentityStoreFixture) async throws {
        try await fixture.withStores { stores in try await run(check, stores, fixture) }
    }

    private typealias S = IdentitySamples

    private static func run(_ check: Check, _ stores: IdentityStores, _ fixture: some IdentityStoreFixture) async throws {
        let store = stores.certificates
        switch check {
        case .emptyStore:
            #expect(try await store.certificates().isEmpty)
            #expect(try await store.certificate(named: "root") == nil)

        case .roundTripInNameOrder:
            let certificates = [S.certificate("root"), S.certificate("Intermediate", verified: true), S.certificate("a-ca")]
            for c in certificates { try await store.insertCertificate(c) }
            #expect(S.exactlyEqual(try await store.certificates(), S.byteOrdered(certificates, by: \.name)))
            for c in certificates { #expect(try await store.certificate(named: c.name) == c) }

        case .duplicateIsRefused:
            let original = S.certificate("root")
            try await store.insertCertificate(original)
            await S.expectStorageError(.duplicate) { try await store.insertCertificate(S.certificate("root", etag: "other")) }
            #expect(try await store.certificates() == [original])

        case .replaceComparesEtags:
            try await store.insertCertificate(S.certificate("root", etag: "c1"))
            var verified = S.certificate("root", etag: "c2", verified: true)
            try await store.replaceCertificate(verified, expectedEtag: "c1")
            #expect(try await store.certificate(named: "root") == verified)
            await S.expectStorageError(.conflict) {
                try await store.replaceCertificate(S.certificate("root", etag: "c3"), expectedEtag: "c1")
            }
            #expect(try await store.certificate(named: "root") == verified)
            verified.etag = "c4"
            verified.verificationCode = ""
            try await store.replaceCertificate(verified, expectedEtag: nil)
            #expect(try await store.certificate(named: "root").map { S.exactlyEqual([$0], [verified]) } == true)
            await S.expectStorageError(.notFound) { try await store.replaceCertificate(S.certificate("absent"), expectedEtag: nil) }

        case .deleteComparesEtags:
            try await store.insertCertificate(S.certificate("root", etag: "c1"))
            await S.expectStorageError(.conflict) { try await store.deleteCertificate(named: "root", expectedEtag: "c0") }
            try await store.deleteCertificate(named: "root", expectedEtag: "c1")
            #expect(try await store.certificate(named: "root") == nil)
            await S.expectStorageError(.notFound) { try await store.deleteCertificate(named: "root", expectedEtag: nil) }
            try await store.insertCertificate(S.certificate("root"))
            try await store.deleteCertificate(named: "root", expectedEtag: nil)
            #expect(try await store.certificates().isEmpty)

        case .awkwardNamesStayDistinct:
            var certificates: [CACertificate] = []
            for (i, name) in S.awkwardNames.enumerated() {
                var c = S.certificate(name, etag: S.awkwardNames[(i + 1) % S.awkwardNames.count])
                c.subject = S.awkwardNames[(i + 2) % S.awkwardNames.count]
                c.verificationCode = S.awkwardNames[(i + 3) % S.awkwardNames.count]
                certificates.append(c)
                try await store.insertCertificate(c)
            }
            #expect(S.exactlyEqual(try await store.certificates(), S.byteOrdered(certificates, by: \.name)))
            for c in certificates {
                #expect(try await store.certificate(named: c.name).map { S.exactlyEqual([$0], [c]) } == true)
            }
            // One of two canonically equivalent names goes; the other stays.
            try await store.deleteCertificate(named: "cafe\u{301}", expectedEtag: nil)
            #expect(try await store.certificate(named: "cafe\u{301}") == nil)
            #expect(try await store.certificate(named: "caf\u{E9}") != nil)

        case .survivesReopen:
            let certificates = [S.certificate("root"), S.certificate("verified", verified: true)]
            for c in certificates { try await store.insertCertificate(c) }
            let reopened = try await fixture.reopen(stores).certificates
            #expect(S.exactlyEqual(try await reopened.certificates(), S.byteOrdered(certificates, by: \.name)))
            try await reopened.deleteCertificate(named: "root", expectedEtag: "c1")
            #expect(try await reopened.certificates().count == 1)
        }
    }
}
