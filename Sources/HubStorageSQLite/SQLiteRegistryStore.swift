import Foundation
import GRDB
import HubCore
import HubStorage

/// `RegistryStore` in the hub's SQLite database (`SQLiteRegistrySchema`): devices and their modules.
///
/// Keys are sealed with `sealer` before they reach SQL and opened after they leave it; a key that does
/// not open (another master key, a row copied elsewhere) is `.corrupt`. Every write is one transaction,
/// and compare-and-swap on the etag happens inside it. All SQL is parameterised.
public final class SQLiteRegistryStore: RegistryStore {
    let database: SQLiteDatabase
    let sealer: any SecretSealer

    /// Uses a database opened with `SQLiteRegistrySchema.migrations` among its migrations.
    public init(database: SQLiteDatabase, sealer: any SecretSealer) {
        self.database = database
        self.sealer = sealer
    }

    /// The device columns, each with the placeholder its argument needs (`RegistryColumns.text` for
    /// string BLOBs), in the order of `deviceArguments`.
    static let deviceSchema: [(column: String, placeholder: String)] = [
        ("device_id", "?"), ("generation_id", RegistryColumns.text), ("etag", RegistryColumns.text), ("status", "?"),
        ("status_reason", RegistryColumns.text), ("status_updated_millis", "?"), ("auth_type", "?"),
        ("primary_key", "?"), ("secondary_key", "?"), ("primary_thumbprint", RegistryColumns.text),
        ("secondary_thumbprint", RegistryColumns.text), ("connection_state", "?"),
        ("connection_state_updated_millis", "?"), ("last_activity_millis", "?"),
        ("cloud_to_device_message_count", "?"), ("is_edge_device", "?"), ("device_scope", RegistryColumns.text),
        ("parent_scopes", "?"),
    ]
    static let deviceColumns = deviceSchema.map(\.column).joined(separator: ", ")

    // MARK: devices

    public func device(_ id: DeviceID) async throws(StorageError) -> Device? {
        let sealer = sealer
        return try await database.read("reading a device") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.deviceColumns) FROM registry_device WHERE device_id = ?", arguments: [id.rawValue]
            ).map { row throws(StorageError) in try Self.device(from: row, sealer: sealer) }
        }
    }

    public func insertDevice(_ device: Device) async throws(StorageError) {
        let arguments = StatementArguments(try deviceArguments(device))
        try await database.write("inserting a device") { db in
            try db.execute(
                sql: "INSERT INTO registry_device (\(Self.deviceColumns)) VALUES (\(Self.values(Self.deviceSchema)))",
                arguments: arguments)
        }
    }

    public func replaceDevice(_ device: Device, expectedEtag: String?) async throws(StorageError) {
        let id = device.id.rawValue
        let arguments = StatementArguments(Array(try deviceArguments(device).dropFirst()) + [id])
        try await database.write("replacing a device") { db in
            try Self.checkEtag(db, table: "registry_device", where: "device_id = ?", [id], expectedEtag, "replaceDevice")
            try db.execute(
                sql: "UPDATE registry_device SET \(Self.assignments(Self.deviceSchema.dropFirst())) WHERE device_id = ?",
                arguments: arguments)
        }
    }

    public func deleteDevice(_ id: DeviceID, expectedEtag: String?) async throws(StorageError) -> Device {
        let sealer = sealer
        return try await database.write("deleting a device") { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.deviceColumns) FROM registry_device WHERE device_id = ?", arguments: [id.rawValue])
            else { throw StorageError(.notFound, "deleteDevice: no such device") }
            let device = try Self.device(from: row, sealer: sealer)
            try Self.check(device.etag, expectedEtag, "deleteDevice")
            // Its modules go with it (ON DELETE CASCADE).
            try db.execute(sql: "DELETE FROM registry_device WHERE device_id = ?", arguments: [id.rawValue])
            return device
        }
    }

    public func devices(after: DeviceID?, limit: Int) async throws(StorageError) -> [Device] {
        guard limit > 0 else { return [] }
        let sealer = sealer
        return try await database.read("listing devices") { db in
            let rows: [Row]
            if let after {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.deviceColumns) FROM registry_device WHERE device_id > ? ORDER BY device_id LIMIT ?",
                    arguments: [after.rawValue, limit])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT \(Self.deviceColumns) FROM registry_device ORDER BY device_id LIMIT ?", arguments: [limit])
            }
            return try rows.map { row throws(StorageError) in try Self.device(from: row, sealer: sealer) }
        }
    }

    public func deviceCounts() async throws(StorageError) -> DeviceCounts {
        try await database.read("counting devices") { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), coalesce(sum(status = 'enabled'), 0) FROM registry_device")
            let total: Int = row?[0] ?? 0
            let enabled: Int = row?[1] ?? 0
            return DeviceCounts(total: total, enabled: enabled, disabled: total - enabled)
        }
    }

    // MARK: activity

    public func recordConnectionState(_ identity: IdentityID, _ state: ConnectionState, at time: Timestamp) async throws(StorageError) {
        try await recordConnectionStates([ConnectionStateRecord(identity: identity, state: state, time: time)])
    }

    /// One transaction, one `UPDATE` per record; the etag is not touched.
    public func recordConnectionStates(_ records: [ConnectionStateRecord]) async throws(StorageError) {
        guard !records.isEmpty else { return }
        try await database.write("recording connection states") { db in
            let device = try db.cachedStatement(
                sql: """
                    UPDATE registry_device SET connection_state = ?, connection_state_updated_millis = ?,
                        last_activity_millis = ? WHERE device_id = ?
                    """)
            let module = try db.cachedStatement(
                sql: """
                    UPDATE registry_module SET connection_state = ?, connection_state_updated_millis = ?,
                        last_activity_millis = ? WHERE device_id = ? AND module_id = ?
                    """)
            let deviceActivity = try db.cachedStatement(sql: "UPDATE registry_device SET last_activity_millis = ? WHERE device_id = ?")
            let moduleActivity = try db.cachedStatement(
                sql: "UPDATE registry_module SET last_activity_millis = ? WHERE device_id = ? AND module_id = ?")
            for r in records where r.activityOnly {
                if let moduleID = r.identity.module {
                    try moduleActivity.execute(arguments: [r.lastActivity.rawValue, r.identity.device.rawValue, moduleID.rawValue])
                } else {
                    try deviceActivity.execute(arguments: [r.lastActivity.rawValue, r.identity.device.rawValue])
                }
            }
            for r in records where !r.activityOnly {
                if let moduleID = r.identity.module {
                    try module.execute(arguments: [
                        r.state.rawValue, r.time.rawValue, r.lastActivity.rawValue, r.identity.device.rawValue, moduleID.rawValue,
                    ])
                } else {
                    try device.execute(arguments: [r.state.rawValue, r.time.rawValue, r.lastActivity.rawValue, r.identity.device.rawValue])
                }
            }
        }
    }

    // MARK: rows

    /// The 18 column values of `deviceColumns`, keys sealed.
    private func deviceArguments(_ d: Device) throws(StorageError) -> [(any DatabaseValueConvertible)?] {
        let auth = try RegistryColumns.authentication(d.authentication, of: IdentityID(device: d.id), sealer: sealer)
        var values: [(any DatabaseValueConvertible)?] = [
            d.id.rawValue, RegistryColumns.blob(d.generationID), RegistryColumns.blob(d.etag), d.status.rawValue,
            RegistryColumns.optionalBlob(d.statusReason), d.statusUpdatedTime?.rawValue,
        ]
        values += auth
        values += [
            d.connectionState.rawValue, d.connectionStateUpdatedTime?.rawValue, d.lastActivityTime?.rawValue,
            d.cloudToDeviceMessageCount, d.isEdgeDevice, RegistryColumns.optionalBlob(d.deviceScope),
            RegistryColumns.encodeStrings(d.parentScopes),
        ]
        return values
    }

    static func device(from row: Row, sealer: any SecretSealer) throws(StorageError) -> Device {
        var r = RegistryRowReader(row, table: "registry_device")
        let id = try r.deviceID()
        let generationID = try r.text()
        let etag = try r.text()
        let statusRaw: String = try r.next()
        guard let status = DeviceStatus(rawValue: statusRaw) else { throw StorageError(.corrupt, "registry_device: unknown status") }
        let statusReason = try r.optionalText()
        let statusUpdated = try r.timestamp()
        let authentication = try r.authentication(of: IdentityID(device: id), sealer: sealer)
        let connection = try r.connectionState()
        let connectionUpdated = try r.timestamp()
        let lastActivity = try r.timestamp()
        let c2dCount: Int = try r.next()
        let isEdge: Bool = try r.next()
        let scope = try r.optionalText()
        let parentScopes = try RegistryColumns.decodeStrings(try r.optional(), table: "registry_device")
        return Device(
            id: id, generationID: generationID, etag: etag, status: status, statusReason: statusReason,
            statusUpdatedTime: statusUpdated, authentication: authentication, connectionState: connection,
            connectionStateUpdatedTime: connectionUpdated, lastActivityTime: lastActivity,
            cloudToDeviceMessageCount: c2dCount, isEdgeDevice: isEdge, deviceScope: scope, parentScopes: parentScopes)
    }

    /// `p1, p2, …` for an INSERT's VALUES.
    static func values(_ schema: some Collection<(column: String, placeholder: String)>) -> String {
        schema.map(\.placeholder).joined(separator: ", ")
    }

    /// `c1 = p1, c2 = p2, …` for an UPDATE's SET.
    static func assignments(_ schema: some Collection<(column: String, placeholder: String)>) -> String {
        schema.map { "\($0.column) = \($0.placeholder)" }.joined(separator: ", ")
    }

    /// Inside a write transaction: `.notFound` unless the row exists, `.conflict` unless its etag is
    /// `expected` (nil = any). The row's etag is read and compared byte for byte.
    static func checkEtag(
        _ db: Database, table: String, where condition: String, _ key: StatementArguments,
        _ expected: String?, _ operation: String
    ) throws {
        guard
            let stored = try Data.fetchOne(db, sql: "SELECT etag FROM \(table) WHERE \(condition)", arguments: key)
        else { throw StorageError(.notFound, "\(operation): no such record") }
        if let expected, stored != Data(expected.utf8) {
            throw StorageError(.conflict, "\(operation): the etag does not match")
        }
    }

    static func check(_ stored: String, _ expected: String?, _ operation: String) throws(StorageError) {
        if let expected, !stored.utf8.elementsEqual(expected.utf8) {
            throw StorageError(.conflict, "\(operation): the etag does not match")
        }
    }
}

extension RegistryRowReader {
    mutating func connectionState() throws(StorageError) -> ConnectionState {
        let raw: String = try next()
        guard let state = ConnectionState(rawValue: raw) else { throw StorageError(.corrupt, "\(table): unknown connection state") }
        return state
    }
}
