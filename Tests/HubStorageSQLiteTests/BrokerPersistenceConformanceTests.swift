import HubTestKit
import Testing

/// The shared `BrokerPersistence` contract, run against every backend available without a server.
@Suite("BrokerPersistence conformance")
struct BrokerPersistenceConformanceTests {
    @Test("in-memory", arguments: BrokerPersistenceConformance.Check.allCases)
    func inMemory(_ check: BrokerPersistenceConformance.Check) async throws {
        try await BrokerPersistenceConformance.run(check, on: InMemoryBrokerPersistenceFixture())
    }

    @Test("SQLite, durability process", arguments: BrokerPersistenceConformance.Check.allCases)
    func sqlite(_ check: BrokerPersistenceConformance.Check) async throws {
        try await BrokerPersistenceConformance.run(check, on: try SQLiteBrokerPersistenceFixture())
    }

    @Test("SQLite, durability power", arguments: [
        BrokerPersistenceConformance.Check.sessionRoundTrip, .survivesReopen,
    ])
    func sqlitePower(_ check: BrokerPersistenceConformance.Check) async throws {
        try await BrokerPersistenceConformance.run(check, on: try SQLiteBrokerPersistenceFixture(durability: .power))
    }
}
