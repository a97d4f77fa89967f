import GRDB

/// The alarms' table in `meridian.sqlite`. Migrations are append-only: never edit a released one.
///
/// - `alarm`: one row per alarm. `type`, `source`, `device_id` and `message` are UTF-8 BLOBs (see
///   `RegistryColumns`: a TEXT argument would be cut at its first NUL, and BLOB `=` compares bytes, as the
///   in-memory store does); `severity` is its wire name; `cleared` and `acknowledged` are 0/1; times are
///   ms since 1970; `details` is JSON text (`JSONWriter` escapes every control character, NUL included).
/// - `alarm_active_key`: a partial unique index on (source, type, device_id) over rows not cleared makes
///   "one active alarm per key" a constraint rather than a convention, and is what a raise looks up.
/// - `alarm_last`: newest-first listings (`ORDER BY last_occurrence DESC, id DESC`) without a sort.
public enum SQLiteAlarmSchema {
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("alarms-1-table") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alarm (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        type BLOB NOT NULL,
                        source BLOB NOT NULL,
                        device_id BLOB NOT NULL,
                        severity TEXT NOT NULL,
                        cleared INTEGER NOT NULL DEFAULT 0,
                        acknowledged INTEGER NOT NULL DEFAULT 0,
                        message BLOB,
                        details TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        first_occurrence INTEGER NOT NULL,
                        last_occurrence INTEGER NOT NULL,
                        acknowledged_time INTEGER,
                        cleared_time INTEGER
                    );
                    CREATE UNIQUE INDEX alarm_active_key ON alarm (source, type, device_id) WHERE cleared = 0;
                    CREATE INDEX alarm_last ON alarm (last_occurrence DESC, id DESC);
                    """)
        }
    ]
}
