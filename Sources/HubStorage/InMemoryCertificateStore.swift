import HubCore
import Synchronization

/// `CertificateStore` in memory (reference implementation, unit tests). Names are byte-exact keys.
public final class InMemoryCertificateStore: CertificateStore {
    private let state = Mutex([ExactKey: CACertificate]())

    /// An empty store.
    public init() {}

    public func certificates() async throws(StorageError) -> [CACertificate] {
        state.withLock { certificates in certificates.keys.sorted().map { certificates[$0]! } }
    }

    public func certificate(named name: String) async throws(StorageError) -> CACertificate? {
        state.withLock { $0[ExactKey(name)] }
    }

    public func insertCertificate(_ certificate: CACertificate) async throws(StorageError) {
        let key = ExactKey(certificate.name)
        try state.withLock { (stored) throws(StorageError) in
            guard stored[key] == nil else { throw StorageError(.duplicate, "insertCertificate: the name is taken") }
            stored[key] = certificate
        }
    }

    public func replaceCertificate(_ certificate: CACertificate, expectedEtag: String?) async throws(StorageError) {
        let key = ExactKey(certificate.name)
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "replaceCertificate: no such certificate") }
            try InMemoryRegistryStore.check(current.etag, expectedEtag, "replaceCertificate")
            stored[key] = certificate
        }
    }

    public func deleteCertificate(named name: String, expectedEtag: String?) async throws(StorageError) {
        let key = ExactKey(name)
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "deleteCertificate: no such certificate") }
            try InMemoryRegistryStore.check(current.etag, expectedEtag, "deleteCertificate")
            stored[key] = nil
        }
    }
}
