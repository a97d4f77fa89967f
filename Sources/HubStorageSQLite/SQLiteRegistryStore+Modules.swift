import Foundation
import GRDB
import HubCore
import HubStorage

extension SQLiteRegistryStore {
    /// The module columns with their placeholders, in the order of `moduleArguments`.
    static let moduleSchema: [(column: String, placeholder: String)] = [
        ("device_id", "?"), ("module_id", "?"), ("generation_id", RegistryColumns.text), ("etag", RegistryColumns.text),
        ("auth_type", "?"), ("primary_key", "?"), ("secondary_key", "?"), ("primary_thumbprint", RegistryColumns.text),
        ("secondary_thumbprint", RegistryColumns.text), ("managed_by", RegistryColumns.text), ("connection_state", "?"),
        ("connection_state_updated_millis", "?"), ("last_activity_millis", "?"), ("cloud_to_device_message_count", "?"),
    ]
    static let moduleColumns = moduleSchema.map(\.column).joined(separator: ", ")

    public func module(_ device: DeviceID, _ module: ModuleID) async throws(StorageError) -> Module? {
        let sealer = sealer
        return try await database.read("reading a module") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.moduleColumns) FROM registry_module WHERE device_id = ? AND module_id = ?",
                arguments: [device.rawValue, module.rawValue]
            ).map { row throws(StorageError) in try Self.module(from: row, sealer: sealer) }
        }
    }

    public func insertModule(_ module: Module) async throws(StorageError) {
        let arguments = StatementArguments(try moduleArguments(module))
        let deviceID = module.deviceID.rawValue
        try await database.write("inserting a module") { db in
            guard try Self.deviceExists(db, deviceID) else { throw StorageError(.notFound, "insertModule: no such device") }
            try db.execute(
                sql: "INSERT INTO registry_module (\(Self.moduleColumns)) VALUES (\(Self.values(Self.moduleSchema)))",
                arguments: arguments)
        }
    }

    public func replaceModule(_ module: Module, expectedEtag: String?) async throws(StorageError) {
        let key: StatementArguments = [module.deviceID.rawValue, module.id.rawValue]
        let arguments = StatementArguments(Array(try moduleArguments(module).dropFirst(2))) + key
        try await database.write("replacing a module") { db in
            try Self.checkEtag(
                db, table: "registry_module", where: "device_id = ? AND module_id = ?", key, expectedEtag, "replaceModule")
            try db.execute(
                sql: "UPDATE registry_module SET \(Self.assignments(Self.moduleSchema.dropFirst(2))) WHERE device_id = ? AND module_id = ?",
                arguments: arguments)
        }
    }

    public func deleteModule(_ device: DeviceID, _ module: ModuleID, expectedEtag: String?) async throws(StorageError) -> Module {
        let sealer = sealer
        return try await database.write("deleting a module") { db in
            let arguments: StatementArguments = [device.rawValue, module.rawValue]
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.moduleColumns) FROM registry_module WHERE device_id = ? AND module_id = ?",
                    arguments: arguments)
            else { throw StorageError(.notFound, "deleteModule: no such module") }
            let stored = try Self.module(from: row, sealer: sealer)
            try Self.check(stored.etag, expectedEtag, "deleteModule")
            try db.execute(sql: "DELETE FROM registry_module WHERE device_id = ? AND module_id = ?", arguments: arguments)
            return stored
        }
    }

    public func modules(of device: DeviceID) async throws(StorageError) -> [Module] {
        let sealer = sealer
        return try await database.read("listing modules") { db in
            guard try Self.deviceExists(db, device.rawValue) else { throw StorageError(.notFound, "modules: no such device") }
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.moduleColumns) FROM registry_module WHERE device_id = ? ORDER BY module_id",
                arguments: [device.rawValue]
            ).map { row throws(StorageError) in try Self.module(from: row, sealer: sealer) }
        }
    }

    static func deviceExists(_ db: Database, _ id: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM registry_device WHERE device_id = ?", arguments: [id]) != nil
    }

    /// The 14 column values of `moduleColumns`, keys sealed.
    private func moduleArguments(_ m: Module) throws(StorageError) -> [(any DatabaseValueConvertible)?] {
        var values: [(any DatabaseValueConvertible)?] = [
            m.deviceID.rawValue, m.id.rawValue, RegistryColumns.blob(m.generationID), RegistryColumns.blob(m.etag),
        ]
        values += try RegistryColumns.authentication(m.authentication, of: m.identity, sealer: sealer)
        values += [
            RegistryColumns.optionalBlob(m.managedBy), m.connectionState.rawValue, m.connectionStateUpdatedTime?.rawValue,
            m.lastActivityTime?.rawValue, m.cloudToDeviceMessageCount,
        ]
        return values
    }

    static func module(from row: Row, sealer: any SecretSealer) throws(StorageError) -> Module {
        var r = RegistryRowReader(row, table: "registry_module")
        let deviceID = try r.deviceID()
        let moduleID = try r.moduleID()
        let generationID = try r.text()
        let etag = try r.text()
        let authentication = try r.authentication(of: IdentityID(device: deviceID, module: moduleID), sealer: sealer)
        let managedBy = try r.optionalText()
        let connection = try r.connectionState()
        let connectionUpdated = try r.timestamp()
        let lastActivity = try r.timestamp()
        let c2dCount: Int = try r.next()
        return Module(
            deviceID: deviceID, id: moduleID, generationID: generationID, etag: etag, authentication: authentication,
            managedBy: managedBy, connectionState: connection, connectionStateUpdatedTime: connectionUpdated,
            lastActivityTime: lastActivity, cloudToDeviceMessageCount: c2dCount)
    }
}
