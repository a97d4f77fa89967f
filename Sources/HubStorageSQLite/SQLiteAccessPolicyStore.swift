import Foundation
import GRDB
import HubCore
import HubStorage

/// `AccessPolicyStore` in the hub's SQLite database (`registry_access_policy`): policies by name (a
/// UTF-8 BLOB, so names compare byte for byte), both keys sealed with the context
/// `policy/<name>/<slot>`.
public final class SQLiteAccessPolicyStore: AccessPolicyStore {
    private let database: SQLiteDatabase
    private let sealer: any SecretSealer

    /// Uses a database opened with `SQLiteRegistrySchema.migrations` among its migrations.
    public init(database: SQLiteDatabase, sealer: any SecretSealer) {
        self.database = database
        self.sealer = sealer
    }

    public func policies() async throws(StorageError) -> [AccessPolicy] {
        let sealer = sealer
        return try await database.read("reading access policies") { db in
            try Row.fetchAll(db, sql: "SELECT name, rights, primary_key, secondary_key FROM registry_access_policy ORDER BY name")
                .map { row throws(StorageError) in try Self.policy(from: row, sealer: sealer) }
        }
    }

    public func policy(named name: String) async throws(StorageError) -> AccessPolicy? {
        let sealer = sealer
        return try await database.read("reading an access policy") { db in
            try Row.fetchOne(
                db, sql: "SELECT name, rights, primary_key, secondary_key FROM registry_access_policy WHERE name = \(RegistryColumns.text)",
                arguments: [RegistryColumns.blob(name)]
            ).map { row throws(StorageError) in try Self.policy(from: row, sealer: sealer) }
        }
    }

    public func savePolicies(_ policies: [AccessPolicy]) async throws(StorageError) {
        var rows: [[(any DatabaseValueConvertible)?]] = []
        for p in policies {
            rows.append([
                RegistryColumns.blob(p.name), Int(p.rights.rawValue),
                Data(try sealer.seal(p.primaryKey.bytes, context: RegistryColumns.policyKeyContext(p.name, primary: true))),
                Data(try sealer.seal(p.secondaryKey.bytes, context: RegistryColumns.policyKeyContext(p.name, primary: false))),
            ])
        }
        let sealedRows = rows.map { StatementArguments($0) }
        try await database.write("saving access policies") { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO registry_access_policy (name, rights, primary_key, secondary_key) VALUES (\(RegistryColumns.text), ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET rights = excluded.rights, primary_key = excluded.primary_key,
                        secondary_key = excluded.secondary_key
                    """)
            for arguments in sealedRows { try upsert.execute(arguments: arguments) }
        }
    }

    static func policy(from row: Row, sealer: any SecretSealer) throws(StorageError) -> AccessPolicy {
        var r = RegistryRowReader(row, table: "registry_access_policy")
        let name = try r.text()
        let rightsRaw: UInt8 = try r.next()
        let primary: Data = try r.next()
        let secondary: Data = try r.next()
        return AccessPolicy(
            name: name, rights: AccessRights(rawValue: rightsRaw),
            primaryKey: try r.key(primary, RegistryColumns.policyKeyContext(name, primary: true), sealer),
            secondaryKey: try r.key(secondary, RegistryColumns.policyKeyContext(name, primary: false), sealer))
    }
}
