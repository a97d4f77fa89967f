import HubStorage
import HubStorageSQLite
import HubTestKit
import Synchronization
import Testing

/// The `CloudToDeviceStore` contract against every backend available without a server.
@Suite("Cloud-to-device store conformance")
struct CloudToDeviceStoreConformanceTests {
    @Test("in-memory", arguments: CloudToDeviceStoreConformance.Check.allCases)
    func inMemory(_ check: CloudToDeviceStoreConformance.Check) async throws {
        try await CloudToDeviceStoreConformance.run(check, on: InMemoryCloudToDeviceStoreFixture())
    }

    @Test("SQLite", arguments: CloudToDeviceStoreConformance.Check.allCases)
    func sqlite(_ check: CloudToDeviceStoreConformance.Check) async throws {
        try await CloudToDeviceStoreConformance.run(check, on: try SQLiteCloudToDeviceStoreFixture())
    }

    @Test("SQLite, durability power", arguments: [CloudToDeviceStoreConformance.Check.survivesReopen])
    func sqlitePower(_ check: CloudToDeviceStoreConformance.Check) async throws {
        try await CloudToDeviceStoreConformance.run(check, on: try SQLiteCloudToDeviceStoreFixture(durability: .power))
    }
}

/// The SQLite store over one database file in a temporary directory, opened with the messaging migrations
/// after those that precede them in the server's list (broker, registry; the twin tables are independent
/// and left out); `open()` after `close` opens the same file again.
final class SQLiteCloudToDeviceStoreFixture: CloudToDeviceStoreFixture {
    let name = "sqlite"
    let directory: TemporaryDirectory
    let durability: DurabilityMode
    private let opened = Mutex<[SQLiteDatabase]>([])

    static let migrations = SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteMessagingSchema.migrations

    init(durability: DurabilityMode = .process) throws {
        directory = try TemporaryDirectory()
        self.durability = durability
    }

    var path: String { SQLiteDatabase.path(inDataDirectory: directory.path) }

    func openDatabase() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: path, durability: durability, migrations: Self.migrations)
        opened.withLock { $0.append(database) }
        return database
    }

    func open() async throws -> OpenedCloudToDeviceStore {
        let database = try openDatabase()
        return OpenedCloudToDeviceStore(store: SQLiteCloudToDeviceStore(database: database), close: { try database.close() })
    }

    func tearDown() async throws {
        for database in opened.withLock({ $0 }) { try? database.close() }
        directory.remove()
    }
}
