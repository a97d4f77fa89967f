import Foundation
import GRDB
import HubCore
import HubStorage

/// The alarms' table in `meridian.sqlite` (append-only migrations, like the other schemas).
///
/// - `alarm`: one row per alarm; `cleared` and `acknowledged` as 0/1, times in ms since 1970, `details`
///   as JSON text. The partial unique index on (source, type, device_id) for rows not cleared makes "one
///   active alarm per key" a constraint, not a convention; a second index serves newest-first listings.
public enum SQLiteAlarmSchema {
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("alarms-1-table") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alarm (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        type TEXT NOT NULL,
                        source TEXT NOT NULL,
                        device_id TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        cleared INTEGER NOT NULL DEFAULT 0,
                        acknowledged INTEGER NOT NULL DEFAULT 0,
                        message TEXT,
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

/// `AlarmStore` in the hub's SQLite database (`SQLiteAlarmSchema`). A raise is one write transaction
/// (find the active alarm of its key, update it or insert); all SQL is parameterised.
public final class SQLiteAlarmStore: AlarmStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let columns =
        "id, type, source, device_id, severity, cleared, acknowledged, message, details, count, first_occurrence, last_occurrence, acknowledged_time, cleared_time"

    public func raise(_ raise: AlarmRaise) async throws(StorageError) -> Alarm {
        let details = JSONWriter.string(raise.details)
        return try await database.write("raising an alarm") { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM alarm WHERE source = ? AND type = ? AND device_id = ? AND cleared = 0",
                arguments: [raise.source, raise.type, raise.deviceID])
            {
                let updated = try Self.alarm(from: row).repeated(by: raise)
                try db.execute(
                    sql: "UPDATE alarm SET count = ?, last_occurrence = ?, severity = ?, message = ?, details = ? WHERE id = ?",
                    arguments: [updated.count, updated.lastOccurrence.rawValue, updated.severity.rawValue, updated.message, details, updated.id])
                return updated
            }
            try db.execute(
                sql: """
                    INSERT INTO alarm (type, source, device_id, severity, message, details, count, first_occurrence, last_occurrence)
                    VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
                    """,
                arguments: [raise.type, raise.source, raise.deviceID, raise.severity.rawValue, raise.message, details, raise.time.rawValue, raise.time.rawValue])
            return Alarm(id: db.lastInsertedRowID, raise: raise)
        }
    }

    public func alarm(_ id: Int64) async throws(StorageError) -> Alarm? {
        try await database.read("reading an alarm") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM alarm WHERE id = ?", arguments: [id]).map { try Self.alarm(from: $0) }
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
            conditions.append("\(column) = ?")
            arguments += [value]
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
            return try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM alarm WHERE id = ?", arguments: [id]).map { try Self.alarm(from: $0) }
        }
    }

    public func clear(_ id: Int64, at time: Timestamp) async throws(StorageError) -> Alarm? {
        try await database.write("clearing an alarm") { db in
            try db.execute(sql: "UPDATE alarm SET cleared = 1, cleared_time = ? WHERE id = ? AND cleared = 0", arguments: [time.rawValue, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM alarm WHERE id = ?", arguments: [id]).map { try Self.alarm(from: $0) }
        }
    }

    public func counts() async throws(StorageError) -> [AlarmSeverity: Int] {
        try await database.read("counting alarms") { db in
            var counts: [AlarmSeverity: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT severity, COUNT(*) FROM alarm WHERE cleared = 0 GROUP BY severity") {
                if let name = row[0] as String?, let severity = AlarmSeverity(rawValue: name), let count = row[1] as Int? { counts[severity] = count }
            }
            return counts
        }
    }

    static func alarm(from row: Row) throws -> Alarm {
        guard let id = row[0] as Int64?, let type = row[1] as String?, let source = row[2] as String?, let device = row[3] as String?,
            let severityName = row[4] as String?, let severity = AlarmSeverity(rawValue: severityName), let cleared = row[5] as Int64?,
            let acknowledged = row[6] as Int64?, let detailsText = row[8] as String?, let count = row[9] as Int64?,
            let first = row[10] as Int64?, let last = row[11] as Int64?
        else { throw StorageError(.corrupt, "alarm: a stored row cannot be read") }
        let details = (try? JSONParser.parse(Array(detailsText.utf8))) ?? .null
        return Alarm(
            id: id, type: type, source: source, deviceID: device, severity: severity,
            status: AlarmStatus(cleared: cleared != 0, acknowledged: acknowledged != 0), message: row[7] as String?, details: details,
            count: count, firstOccurrence: Timestamp(rawValue: first), lastOccurrence: Timestamp(rawValue: last),
            acknowledgedTime: (row[12] as Int64?).map(Timestamp.init(rawValue:)), clearedTime: (row[13] as Int64?).map(Timestamp.init(rawValue:)))
    }
}
