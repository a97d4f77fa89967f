import GRDB
import HubCore
import HubStorage
import HubStorageSQLite
import HubTestKit
import Synchronization
import Testing

/// The `AlarmStore` contract on SQLite, and what the schema itself guarantees.
@Suite("Alarm store, SQLite")
struct SQLiteAlarmStoreTests {
    @Test("AlarmStore, SQLite", arguments: AlarmStoreConformance.Check.allCases)
    func sqlite(_ check: AlarmStoreConformance.Check) async throws {
        try await AlarmStoreConformance.run(check, on: try SQLiteAlarmStoreFixture())
    }

    @Test("AlarmStore, SQLite, durability power", arguments: [AlarmStoreConformance.Check.survivesReopen])
    func sqlitePower(_ check: AlarmStoreConformance.Check) async throws {
        try await AlarmStoreConformance.run(check, on: try SQLiteAlarmStoreFixture(durability: .power))
    }

    @Test("the schema allows one active alarm per key, any number of cleared ones")
    func oneActiveRowPerKey() async throws {
        let fixture = try SQLiteAlarmStoreFixture()
        defer { fixture.removeAll() }
        let database = try fixture.openDatabase()
        let insert = """
            INSERT INTO alarm (type, source, device_id, severity, cleared, details, count, first_occurrence, last_occurrence)
            VALUES (X'74', X'73', X'64', 'major', ?, 'null', 1, 0, 0)
            """
        try await database.write("cleared rows") { db in
            try db.execute(sql: insert, arguments: [1])
            try db.execute(sql: insert, arguments: [1])
            try db.execute(sql: insert, arguments: [0])
        }
        await #expect(throws: StorageError.self) {
            try await database.write("a second active row") { db in try db.execute(sql: insert, arguments: [0]) }
        }
        let store = SQLiteAlarmStore(database: database)
        let raised = try await store.raise(AlarmRaise(type: "t", source: "s", deviceID: "d", severity: .minor, time: Timestamp(rawValue: 5)))
        #expect(raised.id == 3 && raised.count == 2)
    }

    @Test("listing and the raise lookup use the indexes")
    func indexesAreUsed() async throws {
        let fixture = try SQLiteAlarmStoreFixture()
        defer { fixture.removeAll() }
        let database = try fixture.openDatabase()
        let plans = try await database.read("query plans") { db in
            try [
                "SELECT * FROM alarm WHERE source = substr(X'0073', 2) AND type = substr(X'0074', 2) AND device_id = substr(X'0064', 2) AND cleared = 0",
                "SELECT * FROM alarm ORDER BY last_occurrence DESC, id DESC LIMIT 100",
            ].map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String? ?? "" }.joined(separator: "; ")
            }
        }
        #expect(plans[0].contains("INDEX alarm_active_key"), "\(plans[0])")
        #expect(plans[1].contains("INDEX alarm_last") && !plans[1].contains("TEMP B-TREE"), "\(plans[1])")
    }

    @Test("the alarm migrations run beside every other feature's and again on an opened database")
    func migrationsCompose() async throws {
        let fixture = try SQLiteAlarmStoreFixture()
        defer { fixture.removeAll() }
        let first = try await fixture.open()
        let raised = try await first.store.raise(AlarmStoreConformance.raise())
        try await first.close()
        let again = try await fixture.open()
        #expect(try await again.store.alarm(raised.id) == raised)
    }
}

/// A SQLite alarm store over one database file in a temporary directory, opened with every feature's
/// migrations in the server's order; `open()` after `close` opens the same file again.
final class SQLiteAlarmStoreFixture: AlarmStoreFixture {
    let name = "sqlite"
    let directory: TemporaryDirectory
    let durability: DurabilityMode
    private let opened = Mutex<[SQLiteDatabase]>([])

    static let migrations =
        SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteTwinSchema.migrations + SQLiteMessagingSchema.migrations
        + SQLiteAlarmSchema.migrations

    init(durability: DurabilityMode = .process) throws {
        directory = try TemporaryDirectory()
        self.durability = durability
    }

    func openDatabase() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: directory.path), durability: durability, migrations: Self.migrations)
        opened.withLock { $0.append(database) }
        return database
    }

    func open() async throws -> OpenedAlarmStore {
        let database = try openDatabase()
        return OpenedAlarmStore(store: SQLiteAlarmStore(database: database), close: { try database.close() })
    }

    func tearDown() async throws { removeAll() }

    /// Closes every database this fixture opened and deletes the directory.
    func removeAll() {
        for database in opened.withLock({ $0 }) { try? database.close() }
        directory.remove()
    }
}
