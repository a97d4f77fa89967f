import GRDB

/// The cloud-to-device tables in `meridian.sqlite`, used by `SQLiteCloudToDeviceStore`.
///
/// Open the database with these after every feature's earlier migrations (for example
/// `SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations + SQLiteMessagingSchema.migrations`;
/// the tables reference no other feature's, so the position only has to stay the same once released).
/// Never edit or reorder a released migration: add one.
///
/// - `c2d_message`: one row per queued message, keyed by the hub-wide `sequence_number`. `device_id` is
///   TEXT (validated ASCII, binary collation), as in the registry; every other string (message id, lock
///   token, generation id) is a UTF-8 BLOB (see `RegistryColumns`). `locked_until_millis` is NULL while
///   the message is enqueued. The body is a BLOB; the message's properties are one BLOB in
///   `StoredDeviceMessage`'s format.
/// - `c2d_feedback`: feedback records by `id`; `status` is Azure's status name.
/// - `c2d_counter`: `next_sequence_number` and `next_feedback_id`, so identifiers never repeat after a
///   restart even when the queues are empty.
///
/// Timestamps are milliseconds since 1970 (`*_millis`).
public enum SQLiteMessagingSchema {
    /// The messaging migrations, in order.
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("messaging-1-cloud-to-device") { db in
            try db.execute(
                sql: """
                    CREATE TABLE c2d_message (
                        sequence_number INTEGER NOT NULL PRIMARY KEY,
                        device_id TEXT NOT NULL,
                        message_id BLOB,
                        enqueued_millis INTEGER NOT NULL,
                        expiry_millis INTEGER NOT NULL,
                        device_generation_id BLOB,
                        delivery_count INTEGER NOT NULL,
                        locked_until_millis INTEGER,
                        lock_token BLOB,
                        body BLOB NOT NULL,
                        properties BLOB NOT NULL
                    );
                    CREATE INDEX c2d_message_by_device ON c2d_message (device_id, sequence_number);
                    CREATE TABLE c2d_feedback (
                        id INTEGER NOT NULL PRIMARY KEY,
                        original_message_id BLOB NOT NULL,
                        device_id TEXT NOT NULL,
                        status TEXT NOT NULL,
                        description BLOB NOT NULL,
                        enqueued_millis INTEGER NOT NULL,
                        device_generation_id BLOB
                    );
                    CREATE TABLE c2d_counter (
                        name TEXT NOT NULL PRIMARY KEY,
                        value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
    ]
}
