import GRDB

/// One schema step of the hub's SQLite database.
///
/// Every feature that stores data in `meridian.sqlite` (broker persistence, and later the device
/// registry, twins …) owns its migrations and hands them to `SQLiteDatabase` when the hub opens it.
/// Identifiers are permanent: once released, a migration is never edited, only followed by a new
/// one. Prefix them with the feature (`broker-1-…`) so features never collide.
public struct SQLiteMigration: Sendable {
    /// Permanent, unique name recorded in GRDB's `grdb_migrations` table.
    public var identifier: String
    /// Runs inside the migration's transaction.
    public var migrate: @Sendable (Database) throws -> Void

    public init(_ identifier: String, migrate: @escaping @Sendable (Database) throws -> Void) {
        self.identifier = identifier
        self.migrate = migrate
    }
}
