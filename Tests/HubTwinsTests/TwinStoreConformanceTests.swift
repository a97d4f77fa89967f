import HubStorage
import HubStorageSQLite
import HubTestKit
import Synchronization
import Testing

/// The `TwinStore` contract, run against every backend available without a server.
@Suite("TwinStore conformance")
struct TwinStoreConformanceTests {
    @Test("TwinStore, in-memory", arguments: TwinStoreConformance.Check.allCases)
    func inMemory(_ check: TwinStoreConformance.Check) async throws {
        try await TwinStoreConformance.run(check, on: InMemoryTwinStoreFixture())
    }

    @Test("TwinStore, SQLite", arguments: TwinStoreConformance.Check.allCases)
    func sqlite(_ check: TwinStoreConformance.Check) async throws {
        try await TwinStoreConformance.run(check, on: try SQLiteTwinStoreFixture())
    }

    @Test("TwinStore, SQLite, durability power", arguments: [TwinStoreConformance.Check.survivesReopen])
    func sqlitePower(_ check: TwinStoreConformance.Check) async throws {
        try await TwinStoreConformance.run(check, on: try SQLiteTwinStoreFixture(durability: .power))
    }

    @Test("the twin migrations run beside every other feature's and again on an opened database")
    func migrationsCompose() async throws {
        let fixture = try SQLiteTwinStoreFixture()
        defer { fixture.removeAll() }
        let first = try await fixture.open()
        try await first.store.insertTwin(TwinStoreConformance.sample(TwinStoreConformance.identity("dev1")))
        try await first.close()
        let again = try await fixture.open()
        #expect(try await again.store.twin(TwinStoreConformance.identity("dev1")) != nil)
    }
}

/// A SQLite twin store over one database file in a temporary directory, opened with every feature's
/// migrations as the server does; `open()` after `close` opens the same file again.
final class SQLiteTwinStoreFixture: TwinStoreFixture {
    let name = "sqlite"
    let directory: TemporaryDirectory
    let durability: DurabilityMode
    private let opened = Mutex<[SQLiteDatabase]>([])

    init(durability: DurabilityMode = .process) throws {
        directory = try TemporaryDirectory()
        self.durability = durability
    }

    static let migrations = SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteTwinSchema.migrations

    func open() async throws -> OpenedTwinStore {
        let database = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: directory.path), durability: durability, migrations: Self.migrations)
        opened.withLock { $0.append(database) }
        return OpenedTwinStore(store: SQLiteTwinStore(database: database), close: { try database.close() })
    }

    func tearDown() async throws { removeAll() }

    /// Closes every database this fixture opened and deletes the directory.
    func removeAll() {
        for database in opened.withLock({ $0 }) { try? database.close() }
        directory.remove()
    }
}
