import Foundation
import GRDB
import HubStorage
import Logging
import Synchronization

/// The hub's embedded SQLite database: one file, `<data-dir>/meridian.sqlite`, shared by every
/// feature that stores data (broker persistence first).
///
/// A thin wrapper over a GRDB `DatabasePool` that fixes the settings every feature relies on:
/// - WAL journal (one writer, concurrent readers that never block it);
/// - `synchronous` from the `DurabilityMode` (`NORMAL` for `.process`, `FULL` for `.power`);
/// - `busy_timeout` of 5 s on the writer, so a checkpoint or a second process never fails a write at
///   once (GRDB gives its WAL readers 10 s; they are rarely blocked at all);
/// - foreign keys on;
/// - migrations applied at open, in the order given;
/// - every GRDB/SQLite error mapped to a `StorageError` (`SQLITE_FULL` → `.diskFull`, …), so
///   callers never see driver types in errors.
public final class SQLiteDatabase: Sendable {
    /// The database file's name inside the data directory.
    public static let fileName = "meridian.sqlite"
    /// How long a connection waits for a lock before the operation fails with `.unavailable`.
    public static let busyTimeoutSeconds: Double = 5

    /// The database file.
    public let path: String
    public let durability: DurabilityMode
    private let pool: DatabasePool
    private let closed = Mutex(false)

    /// The database file's path for a data directory.
    public static func path(inDataDirectory directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
    }

    /// Opens (creating if needed) the database at `path` and applies `migrations`.
    ///
    /// The directory must exist. Throws `.unavailable` if the file cannot be opened, `.corrupt` if it is
    /// not a database or was migrated by a newer Meridian.
    public init(
        path: String,
        durability: DurabilityMode,
        migrations: [SQLiteMigration],
        logger: Logger = Logger(label: "meridian.storage.sqlite")
    ) throws(StorageError) {
        self.path = path
        self.durability = durability
        var configuration = Configuration()
        configuration.label = "meridian"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
        let synchronous = durability.sqliteSynchronous
        configuration.prepareDatabase { db in
            // PRAGMA values cannot be bound as parameters; this one is a constant of ours.
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB switches the writer to WAL after `prepareDatabase` ran, and sets NORMAL while doing
            // so; set the level again on the writer, the only connection that commits.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
        } catch {
            throw Self.storageError(error, while: "opening \(path)")
        }
        do {
            var migrator = DatabaseMigrator()
            for migration in migrations {
                migrator.registerMigration(migration.identifier, migrate: migration.migrate)
            }
            if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                throw StorageError(
                    .corrupt, "\(path) was written by a newer version of Meridian (unknown migrations applied)")
            }
            try migrator.migrate(pool)
        } catch {
            try? pool.close()
            throw Self.storageError(error, while: "migrating \(path)")
        }
        logger.debug(
            "opened SQLite database",
            metadata: ["path": "\(path)", "durability": "\(durability.rawValue)", "synchronous": "\(synchronous)"])
    }

    /// Reads from a snapshot; runs concurrently with the writer and other readers.
    public func read<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StorageError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storageError(error, while: operation)
        }
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it (any error rolls back).
    public func write<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StorageError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storageError(error, while: operation)
        }
    }

    /// Closes every connection. Idempotent; later reads and writes fail with `.unavailable`.
    public func close() throws(StorageError) {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        if wasClosed { return }
        do {
            try pool.close()
        } catch {
            throw Self.storageError(error, while: "closing \(path)")
        }
    }

    /// The database's own `PRAGMA synchronous` value, for tests and diagnostics.
    public func synchronousSetting() async throws(StorageError) -> Int {
        try await write("reading PRAGMA synchronous") { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }

    /// The journal mode (`wal` expected), for tests and diagnostics.
    public func journalMode() async throws(StorageError) -> String {
        try await read("reading PRAGMA journal_mode") { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
        }
    }
}

extension DurabilityMode {
    /// The `PRAGMA synchronous` value this mode needs with a WAL journal.
    var sqliteSynchronous: String {
        switch self {
        case .process: "NORMAL"
        case .power: "FULL"
        }
    }
}
