import Foundation
import GRDB
import HubCore
import HubStorage

/// `TwinStore` in the hub's SQLite database (`SQLiteTwinSchema`).
///
/// Identifiers and etags are bound as UTF-8 BLOBs (`RegistryColumns.blob` with the `text`
/// placeholder), so they compare and sort byte for byte; the document is JSON text. Every write is one
/// transaction, with compare-and-swap on the etag inside it. All SQL is parameterised.
public final class SQLiteTwinStore: TwinStore {
    private let database: SQLiteDatabase

    /// Uses a database opened with `SQLiteTwinSchema.migrations` among its migrations.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let text = RegistryColumns.text
    private static let byIdentity = "device_id = \(text) AND module_id = \(text)"
    private static let columns = "device_id, module_id, etag, version, document"

    /// `device_id, module_id` arguments of an identity (the device's own twin has the empty module id).
    private static func key(_ identity: IdentityID) -> StatementArguments {
        [RegistryColumns.blob(identity.device.rawValue), RegistryColumns.blob(identity.module?.rawValue ?? "")]
    }

    public func twin(_ identity: IdentityID) async throws(StorageError) -> Twin? {
        try await database.read("reading a twin") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM twin WHERE \(Self.byIdentity)", arguments: Self.key(identity))
                .map { row throws(StorageError) in try Self.twin(from: row) }
        }
    }

    public func insertTwin(_ twin: Twin) async throws(StorageError) {
        let arguments =
            Self.key(twin.identity)
            + [RegistryColumns.blob(twin.etag), twin.version, TwinStorageCodec.encode(twin)]
        try await database.write("inserting a twin") { db in
            try db.execute(
                sql: "INSERT INTO twin (\(Self.columns)) VALUES (\(Self.text), \(Self.text), \(Self.text), ?, ?)",
                arguments: arguments)
        }
    }

    public func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError) {
        let key = Self.key(twin.identity)
        let arguments: StatementArguments = [RegistryColumns.blob(twin.etag), twin.version, TwinStorageCodec.encode(twin)] + key
        try await database.write("replacing a twin") { db in
            try SQLiteRegistryStore.checkEtag(db, table: "twin", where: Self.byIdentity, key, expectedEtag, "replaceTwin")
            try db.execute(
                sql: "UPDATE twin SET etag = \(Self.text), version = ?, document = ? WHERE \(Self.byIdentity)",
                arguments: arguments)
        }
    }

    public func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int {
        try await database.write("deleting twins") { db in
            if identity.module == nil {
                try db.execute(
                    sql: "DELETE FROM twin WHERE device_id = \(Self.text)", arguments: [RegistryColumns.blob(identity.device.rawValue)])
            } else {
                try db.execute(sql: "DELETE FROM twin WHERE \(Self.byIdentity)", arguments: Self.key(identity))
            }
            return db.changesCount
        }
    }

    public func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin] {
        guard limit > 0 else { return [] }
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let after {
            conditions.append("(device_id, module_id) > (\(Self.text), \(Self.text))")
            arguments += Self.key(after)
        }
        switch scope {
        case .devices: conditions.append("module_id = X''")
        case .modules: conditions.append("module_id <> X''")
        case .all: break
        }
        arguments += [limit]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(Self.columns) FROM twin \(filter) ORDER BY device_id, module_id LIMIT ?"
        let bound = arguments
        return try await database.read("scanning twins") { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { row throws(StorageError) in try Self.twin(from: row) }
        }
    }

    static func twin(from row: Row) throws(StorageError) -> Twin {
        let corrupt = StorageError(.corrupt, "twin: a stored row cannot be read")
        guard let deviceData = row[0] as Data?, let moduleData = row[1] as Data?, let etagData = row[2] as Data?,
            let version = row[3] as Int64?, let document = row[4] as String?,
            let deviceID = DeviceID(rawValue: String(decoding: deviceData, as: UTF8.self)),
            let etag = String(validating: etagData, as: UTF8.self)
        else { throw corrupt }
        var moduleID: ModuleID?
        if !moduleData.isEmpty {
            guard let parsed = ModuleID(rawValue: String(decoding: moduleData, as: UTF8.self)) else { throw corrupt }
            moduleID = parsed
        }
        return try TwinStorageCodec.decode(
            document, identity: IdentityID(device: deviceID, module: moduleID), etag: etag, version: version, table: "twin")
    }
}
