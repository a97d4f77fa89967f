import HubStorage
import HubStorageSQLite
import HubTestKit
import Synchronization

/// The four SQLite identity stores over one database file in a temporary directory, opened with the
/// broker's and the registry's migrations (as the server does) and a fresh master key; `open()` after
/// `close` opens the same file again with the same key.
final class SQLiteIdentityStoreFixture: IdentityStoreFixture {
    let name = "sqlite"
    let directory: TemporaryDirectory
    let durability: DurabilityMode
    let sealer: MasterKeySealer
    private let opened = Mutex<[SQLiteDatabase]>([])

    init(durability: DurabilityMode = .process) throws {
        directory = try TemporaryDirectory()
        self.durability = durability
        sealer = MasterKeySealer(current: .generate())
    }

    var path: String { SQLiteDatabase.path(inDataDirectory: directory.path) }

    static let migrations = SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations

    func open() async throws -> IdentityStores {
        let database = try SQLiteDatabase(path: path, durability: durability, migrations: Self.migrations)
        opened.withLock { $0.append(database) }
        return IdentityStores(
            registry: SQLiteRegistryStore(database: database, sealer: sealer),
            policies: SQLiteAccessPolicyStore(database: database, sealer: sealer),
            certificates: SQLiteCertificateStore(database: database), users: SQLiteUserStore(database: database),
            close: { try database.close() })
    }

    func tearDown() async throws { removeAll() }

    /// Closes every database this fixture opened and deletes the directory (synchronous, for `defer`).
    func removeAll() {
        for database in opened.withLock({ $0 }) { try? database.close() }
        directory.remove()
    }
}
