import HubStorage

/// The four identity stores of one backend, opened together (on SQLite they share one database file).
public struct IdentityStores: Sendable {
    public var registry: any RegistryStore
    public var policies: any AccessPolicyStore
    public var certificates: any CertificateStore
    public var users: any UserStore
    /// Closes the backend (the database); the in-memory backend has nothing to close.
    public var close: @Sendable () async throws -> Void

    public init(
        registry: any RegistryStore, policies: any AccessPolicyStore, certificates: any CertificateStore,
        users: any UserStore, close: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.registry = registry
        self.policies = policies
        self.certificates = certificates
        self.users = users
        self.close = close
    }
}

/// An identity storage backend prepared for the conformance suites (`RegistryStoreConformance`,
/// `AccessPolicyStoreConformance`, `CertificateStoreConformance`, `UserStoreConformance`).
///
/// `open()` gives empty stores the first time; after `close` of the previous instance it opens the
/// *same* data again, which is how the suites check that everything survives a restart. Backends that
/// keep nothing across a close (in-memory) return the same instances each time.
public protocol IdentityStoreFixture: Sendable {
    /// A short name for test output (`in-memory`, `sqlite`).
    var name: String { get }
    func open() async throws -> IdentityStores
    /// Closes every store it opened that is still open and removes whatever the fixture created
    /// (temporary directories).
    func tearDown() async throws
}

/// The in-memory backends: the reference the other backends must match.
public struct InMemoryIdentityStoreFixture: IdentityStoreFixture {
    public let name = "in-memory"
    private let stores = IdentityStores(
        registry: InMemoryRegistryStore(), policies: InMemoryAccessPolicyStore(),
        certificates: InMemoryCertificateStore(), users: InMemoryUserStore())

    public init() {}
    public func open() async throws -> IdentityStores { stores }
    public func tearDown() async throws {}
}

extension IdentityStoreFixture {
    /// Opens the stores, runs `body`, then tears the fixture down (which closes whatever is still
    /// open), even when `body` throws.
    func withStores(_ body: (IdentityStores) async throws -> Void) async throws {
        let stores = try await open()
        do {
            try await body(stores)
        } catch {
            try? await tearDown()
            throw error
        }
        try await tearDown()
    }

    /// Closes `stores` and opens the same backend again.
    func reopen(_ stores: IdentityStores) async throws -> IdentityStores {
        try await stores.close()
        return try await open()
    }
}
