import GRDB

/// The twins' table in `meridian.sqlite`, used by `SQLiteTwinStore`.
///
/// Open the database with these after the earlier features' migrations
/// (`SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteTwinSchema.migrations`).
/// Identifiers are permanent and the list is append-only: never edit, reorder or remove a released
/// migration, add one.
///
/// - `twin`: one row per twin. `device_id` and `module_id` are the identifiers' UTF-8 bytes as BLOBs
///   (byte comparison and byte order, like the registry's string columns); a device's own twin has the
///   empty `module_id`, which module ids never are, so it sorts before its modules' twins. `etag`
///   (BLOB) and `version` are the twin's, in columns so compare-and-swap never parses JSON; `document`
///   is the rest as JSON text (`TwinStorageCodec`). No foreign key to the registry: the twin service
///   removes twins when identities go.
public enum SQLiteTwinSchema {
    /// The twins' migrations, in order.
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("twins-1-documents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE twin (
                        device_id BLOB NOT NULL,
                        module_id BLOB NOT NULL,
                        etag BLOB NOT NULL,
                        version INTEGER NOT NULL,
                        document TEXT NOT NULL,
                        PRIMARY KEY (device_id, module_id)
                    ) WITHOUT ROWID;
                    """)
        }
    ]
}
