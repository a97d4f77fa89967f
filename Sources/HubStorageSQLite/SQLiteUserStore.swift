import Foundation
import GRDB
import HubCore
import HubStorage

/// `UserStore` in the hub's SQLite database (`registry_mqtt_user`), by username (a UTF-8 BLOB,
/// compared byte for byte). Passwords arrive already hashed (scrypt) and are stored as given; the ACL
/// rules are one length-prefixed BLOB.
public final class SQLiteUserStore: UserStore {
    private let database: SQLiteDatabase

    /// Uses a database opened with `SQLiteRegistrySchema.migrations` among its migrations.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func users() async throws(StorageError) -> [MQTTUser] {
        try await database.read("reading MQTT users") { db in
            try Row.fetchAll(db, sql: "SELECT username, password_hash, rules, etag FROM registry_mqtt_user ORDER BY username")
                .map { row throws(StorageError) in try Self.user(from: row) }
        }
    }

    public func user(named username: String) async throws(StorageError) -> MQTTUser? {
        try await database.read("reading an MQTT user") { db in
            try Row.fetchOne(
                db, sql: "SELECT username, password_hash, rules, etag FROM registry_mqtt_user WHERE username = \(RegistryColumns.text)",
                arguments: [RegistryColumns.blob(username)]
            ).map { row throws(StorageError) in try Self.user(from: row) }
        }
    }

    public func insertUser(_ user: MQTTUser) async throws(StorageError) {
        let arguments = Self.arguments(user)
        try await database.write("inserting an MQTT user") { db in
            try db.execute(
                sql: "INSERT INTO registry_mqtt_user (username, password_hash, rules, etag) VALUES (\(RegistryColumns.text), \(RegistryColumns.text), ?, \(RegistryColumns.text))",
                arguments: arguments)
        }
    }

    public func replaceUser(_ user: MQTTUser, expectedEtag: String?) async throws(StorageError) {
        let key: StatementArguments = [RegistryColumns.blob(user.username)]
        let arguments: StatementArguments =
            [RegistryColumns.blob(user.passwordHash), RegistryColumns.encodeRules(user.rules), RegistryColumns.blob(user.etag)]
            + key
        try await database.write("replacing an MQTT user") { db in
            try SQLiteRegistryStore.checkEtag(db, table: "registry_mqtt_user", where: "username = \(RegistryColumns.text)", key, expectedEtag, "replaceUser")
            try db.execute(
                sql: "UPDATE registry_mqtt_user SET password_hash = \(RegistryColumns.text), rules = ?, etag = \(RegistryColumns.text) WHERE username = \(RegistryColumns.text)",
                arguments: arguments)
        }
    }

    public func deleteUser(named username: String, expectedEtag: String?) async throws(StorageError) {
        let key: StatementArguments = [RegistryColumns.blob(username)]
        try await database.write("deleting an MQTT user") { db in
            try SQLiteRegistryStore.checkEtag(db, table: "registry_mqtt_user", where: "username = \(RegistryColumns.text)", key, expectedEtag, "deleteUser")
            try db.execute(sql: "DELETE FROM registry_mqtt_user WHERE username = \(RegistryColumns.text)", arguments: key)
        }
    }

    private static func arguments(_ u: MQTTUser) -> StatementArguments {
        [
            RegistryColumns.blob(u.username), RegistryColumns.blob(u.passwordHash), RegistryColumns.encodeRules(u.rules),
            RegistryColumns.blob(u.etag),
        ]
    }

    static func user(from row: Row) throws(StorageError) -> MQTTUser {
        var r = RegistryRowReader(row, table: "registry_mqtt_user")
        let username = try r.text()
        let hash = try r.text()
        let rules: Data = try r.next()
        let etag = try r.text()
        return MQTTUser(
            username: username, passwordHash: hash, rules: try RegistryColumns.decodeRules(rules, table: "registry_mqtt_user"),
            etag: etag)
    }
}
