import HubTestKit
import Testing

/// The identity storage contracts (`RegistryStore`, `AccessPolicyStore`, `CertificateStore`,
/// `UserStore`), each run against every backend available without a server.
@Suite("Identity store conformance")
struct IdentityStoreConformanceTests {
    @Test("RegistryStore, in-memory", arguments: RegistryStoreConformance.Check.allCases)
    func registryInMemory(_ check: RegistryStoreConformance.Check) async throws {
        try await RegistryStoreConformance.run(check, on: InMemoryIdentityStoreFixture())
    }

    @Test("RegistryStore, SQLite", arguments: RegistryStoreConformance.Check.allCases)
    func registrySQLite(_ check: RegistryStoreConformance.Check) async throws {
        try await RegistryStoreConformance.run(check, on: try SQLiteIdentityStoreFixture())
    }

    @Test("RegistryStore, SQLite, durability power", arguments: [RegistryStoreConformance.Check.survivesReopen])
    func registrySQLitePower(_ check: RegistryStoreConformance.Check) async throws {
        try await RegistryStoreConformance.run(check, on: try SQLiteIdentityStoreFixture(durability: .power))
    }

    @Test("AccessPolicyStore, in-memory", arguments: AccessPolicyStoreConformance.Check.allCases)
    func policiesInMemory(_ check: AccessPolicyStoreConformance.Check) async throws {
        try await AccessPolicyStoreConformance.run(check, on: InMemoryIdentityStoreFixture())
    }

    @Test("AccessPolicyStore, SQLite", arguments: AccessPolicyStoreConformance.Check.allCases)
    func policiesSQLite(_ check: AccessPolicyStoreConformance.Check) async throws {
        try await AccessPolicyStoreConformance.run(check, on: try SQLiteIdentityStoreFixture())
    }

    @Test("CertificateStore, in-memory", arguments: CertificateStoreConformance.Check.allCases)
    func certificatesInMemory(_ check: CertificateStoreConformance.Check) async throws {
        try await CertificateStoreConformance.run(check, on: InMemoryIdentityStoreFixture())
    }

    @Test("CertificateStore, SQLite", arguments: CertificateStoreConformance.Check.allCases)
    func certificatesSQLite(_ check: CertificateStoreConformance.Check) async throws {
        try await CertificateStoreConformance.run(check, on: try SQLiteIdentityStoreFixture())
    }

    @Test("UserStore, in-memory", arguments: UserStoreConformance.Check.allCases)
    func usersInMemory(_ check: UserStoreConformance.Check) async throws {
        try await UserStoreConformance.run(check, on: InMemoryIdentityStoreFixture())
    }

    @Test("UserStore, SQLite", arguments: UserStoreConformance.Check.allCases)
    func usersSQLite(_ check: UserStoreConformance.Check) async throws {
        try await UserStoreConformance.run(check, on: try SQLiteIdentityStoreFixture())
    }
}
