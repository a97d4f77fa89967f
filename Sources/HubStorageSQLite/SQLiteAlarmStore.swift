import Foundation
import GRDB
import HubCore
import HubStorage

/// `AlarmStore` in the hub's SQLite database (`SQLiteAlarmSchema`).
///
/// A raise is one write transaction: look up the key's active alarm through `alarm_active_key`, then
/// update it or insert a new row. Every value is a bound argument; strings go in as marked BLOBs
/// (`RegistryColumns.blob` with the `substr(?, 2)` placeholder) so they compare and come back byte for byte.
public final class SQLiteAlarmStore: AlarmStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let columns =
        "id, type, source, device_id, severity, cleared, acknowledged, message, details, count, first_occurrence, last_occurrence, acknowledged_time, cleared_time"
    private static let text = RegistryColumns.text
    private static let selectByID = "SELECT \(columns) FROM alarm WHERE id = ?"

    public func raise(_ raise: AlarmRaise) async throws(StorageError) -> Alarm {
        try raise.checkDetails()
        return try await database.write("raising an alarm") { db in try Self.raise(raise, in: db) }
    }

    /// All of `raises` in one write transaction (a stream job's batch): one commit instead of one per row.
    public func raise(_ raises: [AlarmRaise]) async throws(StorageError) -> [Alarm] {
        for raise in raises { try raise.checkDetails() }
        return try await database.write("raising alarms") { db in try raises.map { try Self.raise($0, in: db) } }
    }

    private static func raise(_ raise: AlarmRaise, in db: Database) throws -> Alarm {
        let details = JSONWriter.string(raise.details)
        let key: StatementArguments = [RegistryColumns.blob(raise.source), RegistryColumns.blob(raise.type), RegistryColumns.blob(raise.deviceID)]
        let activeSQL = "SELECT \(Self.columns) FROM alarm WHERE source = \(Self.text) AND type = \(Self.text) AND device_id = \(Self.text) AND cleared = 0"
        if let row = try Row.fetchOne(db, sql: activeSQL, arguments: key) {
            let updated = try Self.alarm(from: row).repeated(by: raise)
            try db.execute(
                sql: "UPDATE alarm SET count = ?, last_occurrence = ?, severity = ?, message = \(Self.text), details = ? WHERE id = ?",
                arguments: [
                    updated.count, updated.lastOccurrence.rawValue, updated.severity.rawValue, RegistryColumns.optionalBlob(updated.message),
                    details, updated.id,
                ])
            return updated
        }
        try db.execute(
            sql: """
                INSERT INTO alarm (type, source, device_id, severity, message, details, count, first_occurrence, last_occurrence)
                VALUES (\(Self.text), \(Self.text), \(Self.text), ?, \(Self.text), ?, 1, ?, ?)
                """,
            arguments: [
                RegistryColumns.blob(raise.type), RegistryColumns.blob(raise.source), RegistryColumns.blob(raise.deviceID), raise.severity.rawValue,
                RegistryColumns.optionalBlob(raise.message), details, raise.time.rawValue, raise.time.rawValue,
            ])
        return Alarm(id: db.lastInsertedRowID, raise: raise)
    }

    public func alarm(_ id: Int64) async throws(StorageError) -> Alarm? {
        try await database.read("reading an alarm") { db in
            try Row.fetchOne(db, sql: Self.selectByID, arguments: [id]).map { try Self.alarm(from: $0) }
        }
    }

    public func alarms(_ filter: AlarmFilter) async throws(StorageError) -> [Alarm] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let status = filter.status {
            conditions.append("cleared = ? AND acknowledged = ?")
            arguments += [status.cleared ? 1 : 0, status.acknowledged ? 1 : 0]
        }
        if filter.activeOnly { conditions.append("cleared = 0") }
        if filter.clearedOnly { conditions.append("cleared = 1") }
        if let severity = filter.severity {
            conditions.append("severity = ?")
            arguments += [severity.rawValue]
        }
        for (column, value) in [("device_id", filter.deviceID), ("source", filter.source), ("type", filter.type)] {
            guard let value else { continue }
            conditions.append("\(column) = \(Self.text)")
            arguments += [RegistryColumns.blob(value)]
        }
        arguments += [max(1, min(filter.limit, 1000))]
        let sql = "SELECT \(Self.columns) FROM alarm \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) "
            + "ORDER BY last_occurrence DESC, id DESC LIMIT ?"
        let bound = arguments
        return try await database.read("listing alarms") { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { try Self.alarm(from: $0) }
        }
    }

    public func acknowledge(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm? {
        try await database.write("acknowledging an alarm") { db in
            try db.execute(sql: "UPDATE alarm SET acknowledged = 1, acknowledged_time = ? WHERE id = ? AND acknowledged = 0", arguments: [time.rawValue, id])
            return try Row.fetchOne(db, sql: Self.selectByID, arguments: [id]).map { try Self.alarm(from: $0) }
        }
    }

    public func clear(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm? {
        try await database.write("clearing an alarm") { db in
            try db.execute(sql: "UPDATE alarm SET cleared = 1, cleared_time = ? WHERE id = ? AND cleared = 0", arguments: [time.rawValue, id])
            return try Row.fetchOne(db, sql: Self.selectByID, arguments: [id]).map { try Self.alarm(from: $0) }
        }
    }

    public func counts() async throws(StorageError) -> [AlarmSeverity: Int] {
        try await database.read("counting alarms") { db in
            var counts: [AlarmSeverity: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT severity, COUNT(*) FROM alarm WHERE cleared = 0 GROUP BY severity") {
                var r = RegistryRowReader(row, table: "alarm")
                let name: String = try r.next()
                guard let severity = AlarmSeverity(rawValue: name) else { throw StorageError(.corrupt, "alarm: unknown severity") }
                counts[severity] = try r.next()
            }
            return counts
        }
    }

    public func raisedCounts(from: Timestamp, to: Timestamp) async throws(StorageError) -> [String: Int] {
        try await database.read("counting raised alarms") { db in
            var counts: [String: Int] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT device_id, COUNT(*) FROM alarm WHERE first_occurrence >= ? AND first_occurrence < ? GROUP BY device_id",
                arguments: [from.rawValue, to.rawValue])
            for row in rows {
                var r = RegistryRowReader(row, table: "alarm")
                let device = try r.text()
                counts[device] = try r.next()
            }
            return counts
        }
    }

    /// A row in `columns` order as an alarm; anything unexpected is `.corrupt`.
    static func alarm(from row: Row) throws(StorageError) -> Alarm {
        var r = RegistryRowReader(row, table: "alarm")
        let id: Int64 = try r.next()
        let type = try r.text()
        let source = try r.text()
        let deviceID = try r.text()
        let severityName: String = try r.next()
        guard let severity = AlarmSeverity(rawValue: severityName) else { throw StorageError(.corrupt, "alarm: unknown severity") }
        let cleared: Bool = try r.next()
        let acknowledged: Bool = try r.next()
        let message = try r.optionalText()
        let detailsText: String = try r.next()
        let details: JSONValue
        do {
            details = try JSONParser.parse(Array(detailsText.utf8))
        } catch {
            throw StorageError(.corrupt, "alarm: stored details are not JSON")
        }
        let count: Int64 = try r.next()
        let first: Int64 = try r.next()
        let last: Int64 = try r.next()
        let acknowledgedTime = try r.timestamp()
        let clearedTime = try r.timestamp()
        return Alarm(
            id: id, type: type, source: source, deviceID: deviceID, severity: severity,
            status: AlarmStatus(cleared: cleared, acknowledged: acknowledged), message: message, details: details, count: count,
            firstOccurrence: Timestamp(rawValue: first), lastOccurrence: Timestamp(rawValue: last), acknowledgedTime: acknowledgedTime,
            clearedTime: clearedTime)
    }
}
