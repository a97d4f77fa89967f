import GRDB

/// The identity registry's tables in `meridian.sqlite`, shared by `SQLiteRegistryStore`,
/// `SQLiteAccessPolicyStore`, `SQLiteCertificateStore` and `SQLiteUserStore`.
///
/// Open the database with these after every feature's earlier migrations
/// (`SQLiteBrokerPersistence.migrations + SQLiteRegistrySchema.migrations`). Never edit a released
/// migration: add one.
///
/// - `registry_device`: one row per device. `device_id` TEXT primary key (validated ASCII, binary
///   collation). `primary_key`/`secondary_key` hold `SecretSealer` output (NULL unless `auth_type` is
///   `sas`); thumbprints and every free-text column are UTF-8 BLOBs (see `RegistryColumns`).
///   `parent_scopes` is NULL or a length-prefixed list.
/// - `registry_module`: one row per module, `(device_id, module_id)` primary key, deleted with its
///   device (`ON DELETE CASCADE`).
/// - `registry_access_policy`: shared access policies by name (BLOB), rights as a bit set, sealed keys.
/// - `registry_ca_certificate`: CA certificates by name (BLOB).
/// - `registry_mqtt_user`: MQTT users by username (BLOB), the scrypt hash and the encoded ACL rules.
///
/// Timestamps are milliseconds since 1970 (`*_millis`), booleans 0/1.
public enum SQLiteRegistrySchema {
    /// The registry's migrations, in order.
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("registry-1-identities") { db in
            try db.execute(
                sql: """
                    CREATE TABLE registry_device (
                        device_id TEXT NOT NULL PRIMARY KEY,
                        generation_id BLOB NOT NULL,
                        etag BLOB NOT NULL,
                        status TEXT NOT NULL,
                        status_reason BLOB,
                        status_updated_millis INTEGER,
                        auth_type TEXT NOT NULL,
                        primary_key BLOB,
                        secondary_key BLOB,
                        primary_thumbprint BLOB,
                        secondary_thumbprint BLOB,
                        connection_state TEXT NOT NULL,
                        connection_state_updated_millis INTEGER,
                        last_activity_millis INTEGER,
                        cloud_to_device_message_count INTEGER NOT NULL,
                        is_edge_device INTEGER NOT NULL,
                        device_scope BLOB,
                        parent_scopes BLOB
                    );
                    CREATE TABLE registry_module (
                        device_id TEXT NOT NULL REFERENCES registry_device(device_id) ON DELETE CASCADE,
                        module_id TEXT NOT NULL,
                        generation_id BLOB NOT NULL,
                        etag BLOB NOT NULL,
                        auth_type TEXT NOT NULL,
                        primary_key BLOB,
                        secondary_key BLOB,
                        primary_thumbprint BLOB,
                        secondary_thumbprint BLOB,
                        managed_by BLOB,
                        connection_state TEXT NOT NULL,
                        connection_state_updated_millis INTEGER,
                        last_activity_millis INTEGER,
                        cloud_to_device_message_count INTEGER NOT NULL,
                        PRIMARY KEY (device_id, module_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE registry_access_policy (
                        name BLOB NOT NULL PRIMARY KEY,
                        rights INTEGER NOT NULL,
                        primary_key BLOB NOT NULL,
                        secondary_key BLOB NOT NULL
                    );
                    CREATE TABLE registry_ca_certificate (
                        name BLOB NOT NULL PRIMARY KEY,
                        pem BLOB NOT NULL,
                        thumbprint BLOB NOT NULL,
                        subject BLOB NOT NULL,
                        not_before_millis INTEGER NOT NULL,
                        not_after_millis INTEGER NOT NULL,
                        is_verified INTEGER NOT NULL,
                        verification_code BLOB,
                        etag BLOB NOT NULL,
                        created_millis INTEGER NOT NULL,
                        updated_millis INTEGER NOT NULL
                    );
                    CREATE TABLE registry_mqtt_user (
                        username BLOB NOT NULL PRIMARY KEY,
                        password_hash BLOB NOT NULL,
                        rules BLOB NOT NULL,
                        etag BLOB NOT NULL
                    );
                    """)
        }
    ]
}
