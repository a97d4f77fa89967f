import Foundation
import GRDB
import HubStorage
import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

@testable import HubStorageSQLite

@Suite("SQLite database")
struct SQLiteDatabaseTests {
    @Test("durability modes set WAL and the matching synchronous level", arguments: [
        (DurabilityMode.process, 1), (DurabilityMode.power, 2),
    ])
    func durability(mode: DurabilityMode, synchronous: Int) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: dir.path), durability: mode,
            migrations: SQLiteBrokerPersistence.migrations)
        #expect(try await db.journalMode() == "wal")
        #expect(try await db.synchronousSetting() == synchronous)  // NORMAL = 1, FULL = 2
        let busyTimeout = try await db.write("busy_timeout") { db in try Int.fetchOne(db, sql: "PRAGMA busy_timeout") }
        #expect(busyTimeout == 5000)
        // Survives reopening: the level is set on every open, not only when the file is created.
        try db.close()
        let reopened = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: dir.path), durability: mode,
            migrations: SQLiteBrokerPersistence.migrations)
        #expect(try await reopened.synchronousSetting() == synchronous)
        try reopened.close()
        try db.close()  // idempotent
    }

    @Test("the file is meridian.sqlite in the data directory")
    func fileName() {
        #expect(SQLiteDatabase.path(inDataDirectory: "/var/lib/meridian") == "/var/lib/meridian/meridian.sqlite")
    }

    @Test("a batch that fails half-way leaves nothing behind")
    func batchIsAtomic() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: dir.path), durability: .process,
            migrations: SQLiteBrokerPersistence.migrations)
        let persistence = SQLiteBrokerPersistence(database: db)
        try await db.write("add failing trigger") { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER fail_on_boom BEFORE INSERT ON mqtt_retained
                    WHEN NEW.topic = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END
                    """)
        }
        let before = PersistedSession(clientID: "keep", protocolVersion: .v5, expiryInterval: 1, lastSeenMillis: 1)
        try await persistence.write(PersistenceBatch(upsertedSessions: [before]))

        let batch = PersistenceBatch(
            upsertedSessions: [PersistedSession(clientID: "new", protocolVersion: .v5, expiryInterval: 1, lastSeenMillis: 1)],
            deletedSessions: ["keep"],
            upsertedRetained: [
                PersistedRetainedMessage(publish: MQTTPublish(topic: "fine", payload: ByteBuffer()), receivedAtMillis: 0),
                PersistedRetainedMessage(publish: MQTTPublish(topic: "boom", payload: ByteBuffer()), receivedAtMillis: 0),
            ])
        await #expect(throws: StorageError.self) { try await persistence.write(batch) }
        let state = try await persistence.load()
        #expect(state.sessions.map(\.clientID) == ["keep"])
        #expect(state.retained.isEmpty)
        try db.close()
    }

    @Test("a full disk is .diskFull, and writes resume once space is back (F2)")
    func diskFull() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try SQLiteDatabase(
            path: SQLiteDatabase.path(inDataDirectory: dir.path), durability: .process,
            migrations: SQLiteBrokerPersistence.migrations)
        let persistence = SQLiteBrokerPersistence(database: db)
        // max_page_count makes SQLite report SQLITE_FULL exactly as for ENOSPC; it is per connection
        // and the pool has a single writer connection.
        let pages = try await db.write("limit size") { db -> Int in
            let current = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(current + 4)")
            return current
        }
        #expect(pages > 0)
        let big = PersistedRetainedMessage(
            publish: MQTTPublish(topic: "big", payload: ByteBuffer(repeating: 7, count: 256 * 1024)),
            receivedAtMillis: 0)
        do {
            try await persistence.write(PersistenceBatch(upsertedRetained: [big]))
            Issue.record("write should have failed")
        } catch let error as StorageError {
            #expect(error.code == .diskFull)
            #expect(error.message.contains("full"))
        }
        // Reads still work while full.
        #expect(try await persistence.load().retained.isEmpty)
        try await db.write("lift limit") { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        try await persistence.write(PersistenceBatch(upsertedRetained: [big]))
        #expect(try await persistence.load().retained == [big])
        try db.close()
    }

    @Test("a file that is not a database is .corrupt")
    func notADatabase() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = SQLiteDatabase.path(inDataDirectory: dir.path)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteDatabase(path: path, durability: .process, migrations: SQLiteBrokerPersistence.migrations)
        } throws: { error in
            (error as? StorageError)?.code == .corrupt
        }
    }

    @Test("a database migrated by a newer Meridian is refused")
    func newerSchema() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = SQLiteDatabase.path(inDataDirectory: dir.path)
        let future = SQLiteBrokerPersistence.migrations + [SQLiteMigration("broker-99-from-the-future") { _ in }]
        try SQLiteDatabase(path: path, durability: .process, migrations: future).close()
        #expect {
            _ = try SQLiteDatabase(path: path, durability: .process, migrations: SQLiteBrokerPersistence.migrations)
        } throws: { error in
            guard let error = error as? StorageError else { return false }
            return error.code == .corrupt && error.message.contains("newer version")
        }
    }

    @Test("an unopenable path is .unavailable")
    func cannotOpen() {
        #expect {
            _ = try SQLiteDatabase(
                path: "/nonexistent-dir-for-meridian-test/meridian.sqlite", durability: .process, migrations: [])
        } throws: { error in
            (error as? StorageError)?.code == .unavailable
        }
    }

    @Test("a closed database answers .unavailable")
    func closed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let persistence = try SQLiteBrokerPersistence(
            path: SQLiteDatabase.path(inDataDirectory: dir.path), durability: .process)
        try await persistence.close()
        try await persistence.close()  // the broker and the server may both close it
        do {
            _ = try await persistence.load()
            Issue.record("load after close should fail")
        } catch let error as StorageError {
            #expect(error.code == .unavailable)
        }
    }

    @Test("SQLite result codes map to StorageError codes", arguments: [
        (ResultCode.SQLITE_FULL, StorageError.Code.diskFull),
        (.SQLITE_BUSY, .unavailable),
        (.SQLITE_LOCKED, .unavailable),
        (.SQLITE_IOERR, .unavailable),
        (.SQLITE_IOERR_FSYNC, .unavailable),
        (.SQLITE_CANTOPEN, .unavailable),
        (.SQLITE_READONLY, .unavailable),
        (.SQLITE_CORRUPT, .corrupt),
        (.SQLITE_NOTADB, .corrupt),
        (.SQLITE_CONSTRAINT_UNIQUE, .duplicate),
        (.SQLITE_CONSTRAINT_PRIMARYKEY, .duplicate),
        (.SQLITE_CONSTRAINT_FOREIGNKEY, .conflict),
        (.SQLITE_CONSTRAINT_CHECK, .conflict),
    ])
    func errorMapping(resultCode: ResultCode, expected: StorageError.Code) {
        let error = DatabaseError(
            resultCode: resultCode, message: "m", sql: "INSERT INTO t VALUES (?)", arguments: ["secret-value"])
        let mapped = SQLiteDatabase.storageError(error, while: "testing")
        #expect(mapped.code == expected)
        #expect(!mapped.description.contains("secret-value"))
        #expect(mapped.message.hasPrefix("testing: m"))
    }
}
