import HubStorage
import HubStorageSQLite
import HubTestKit
import MQTTBroker

/// `SQLiteBrokerPersistence` on a database file in a temporary directory; `open()` after `close()`
/// opens the same file again.
struct SQLiteBrokerPersistenceFixture: BrokerPersistenceFixture {
    let name = "sqlite"
    let directory: TemporaryDirectory
    let durability: DurabilityMode

    init(durability: DurabilityMode = .process) throws {
        directory = try TemporaryDirectory()
        self.durability = durability
    }

    var path: String { SQLiteDatabase.path(inDataDirectory: directory.path) }

    func open() async throws -> any BrokerPersistence {
        try SQLiteBrokerPersistence(path: path, durability: durability)
    }

    func tearDown() async throws { directory.remove() }
}
