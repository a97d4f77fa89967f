import HubCore

/// `CertificateStore` in memory (reference implementation, unit tests). Names are byte-exact keys.
public final class InMemoryCertificateStore: CertificateStore {
    private let table = NamedRecordTable<CACertificate>(noun: "certificate", name: \.name, etag: \.etag)

    /// An empty store.
    public init() {}

    public func certificates() async throws(StorageError) -> [CACertificate] { table.all() }

    public func certificate(named name: String) async throws(StorageError) -> CACertificate? { table.record(named: name) }

    public func insertCertificate(_ certificate: CACertificate) async throws(StorageError) {
        try table.insert(certificate, operation: "insertCertificate")
    }

    public func replaceCertificate(_ certificate: CACertificate, expectedEtag: String?) async throws(StorageError) {
        try table.replace(certificate, expectedEtag: expectedEtag, operation: "replaceCertificate")
    }

    public func deleteCertificate(named name: String, expectedEtag: String?) async throws(StorageError) {
        try table.delete(named: name, expectedEtag: expectedEtag, operation: "deleteCertificate")
    }
}
