import Foundation
import GRDB
import HubCore
import HubStorage

/// `CloudToDeviceStore` in the hub's SQLite database (`c2d_message`, `c2d_feedback`, `c2d_counter`).
/// Each `apply` is one write transaction with cached statements; `load` reads one snapshot.
public final class SQLiteCloudToDeviceStore: CloudToDeviceStore {
    private let database: SQLiteDatabase

    /// Uses a database opened with `SQLiteMessagingSchema.migrations` among its migrations.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let text = RegistryColumns.text
    private static let messageColumns =
        "sequence_number, device_id, message_id, enqueued_millis, expiry_millis, device_generation_id, delivery_count, "
        + "locked_until_millis, lock_token, body, properties"
    private static let feedbackColumns =
        "id, original_message_id, device_id, status, description, enqueued_millis, device_generation_id"

    public func load() async throws(StorageError) -> CloudToDeviceSnapshot {
        try await database.read("loading cloud-to-device queues") { db in
            let messages = try Row.fetchAll(db, sql: "SELECT \(Self.messageColumns) FROM c2d_message ORDER BY sequence_number")
                .map { row throws(StorageError) in try Self.entry(from: row) }
            let feedback = try Row.fetchAll(db, sql: "SELECT \(Self.feedbackColumns) FROM c2d_feedback ORDER BY id")
                .map { row throws(StorageError) in try Self.feedback(from: row) }
            var counters = CloudToDeviceCounters()
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM c2d_counter") {
                var r = RegistryRowReader(row, table: "c2d_counter")
                let name: String = try r.next()
                let value: Int64 = try r.next()
                switch name {
                case "next_sequence_number": counters.nextSequenceNumber = value
                case "next_feedback_id": counters.nextFeedbackID = value
                default: throw StorageError(.corrupt, "c2d_counter: unknown counter")
                }
            }
            return CloudToDeviceSnapshot(messages: messages, feedback: feedback, counters: counters)
        }
    }

    /// One change with its statement arguments, prepared outside the write transaction.
    private enum Prepared: Sendable {
        case saveMessage(StatementArguments)
        case removeMessage(Int64)
        case saveFeedback(StatementArguments)
        case removeFeedback(Int64)
        case setCounters(CloudToDeviceCounters)
    }

    public func apply(_ changes: [CloudToDeviceChange]) async throws(StorageError) {
        guard !changes.isEmpty else { return }
        let prepared = changes.map(Self.prepare)
        try await database.write("saving cloud-to-device changes") { db in
            for change in prepared {
                switch change {
                case .saveMessage(let arguments):
                    try db.cachedStatement(
                        sql: "INSERT OR REPLACE INTO c2d_message (\(Self.messageColumns)) VALUES "
                            + "(?, ?, \(Self.text), ?, ?, \(Self.text), ?, ?, \(Self.text), \(Self.text), ?)"
                    ).execute(arguments: arguments)
                case .removeMessage(let sequenceNumber):
                    try db.cachedStatement(sql: "DELETE FROM c2d_message WHERE sequence_number = ?").execute(arguments: [sequenceNumber])
                case .saveFeedback(let arguments):
                    try db.cachedStatement(
                        sql: "INSERT OR REPLACE INTO c2d_feedback (\(Self.feedbackColumns)) VALUES "
                            + "(?, \(Self.text), ?, ?, \(Self.text), ?, \(Self.text))"
                    ).execute(arguments: arguments)
                case .removeFeedback(let id):
                    try db.cachedStatement(sql: "DELETE FROM c2d_feedback WHERE id = ?").execute(arguments: [id])
                case .setCounters(let counters):
                    let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO c2d_counter (name, value) VALUES (?, ?)")
                    try upsert.execute(arguments: ["next_sequence_number", counters.nextSequenceNumber])
                    try upsert.execute(arguments: ["next_feedback_id", counters.nextFeedbackID])
                }
            }
        }
    }

    private static func prepare(_ change: CloudToDeviceChange) -> Prepared {
        switch change {
        case .saveMessage(let e):
            let lockedUntil: Int64?
            switch e.state {
            case .enqueued: lockedUntil = nil
            case .invisible(let until): lockedUntil = until.rawValue
            }
            var body = Data([0])
            body.append(contentsOf: e.message.body)
            return .saveMessage([
                e.sequenceNumber, e.device.rawValue, RegistryColumns.optionalBlob(e.message.messageID), e.enqueuedTime.rawValue,
                e.expiryTime.rawValue, RegistryColumns.optionalBlob(e.deviceGenerationID), e.deliveryCount, lockedUntil,
                RegistryColumns.optionalBlob(e.lockToken), body, StoredDeviceMessage.encode(e.message),
            ])
        case .removeMessage(let sequenceNumber):
            return .removeMessage(sequenceNumber)
        case .saveFeedback(let f):
            return .saveFeedback([
                f.id, RegistryColumns.blob(f.originalMessageID), f.device.rawValue, f.status.rawValue, RegistryColumns.blob(f.description),
                f.enqueuedTime.rawValue, RegistryColumns.optionalBlob(f.deviceGenerationID),
            ])
        case .removeFeedback(let id):
            return .removeFeedback(id)
        case .setCounters(let counters):
            return .setCounters(counters)
        }
    }

    private static func entry(from row: Row) throws(StorageError) -> CloudToDeviceEntry {
        var r = RegistryRowReader(row, table: "c2d_message")
        let sequenceNumber: Int64 = try r.next()
        let device = try r.deviceID()
        _ = try r.optionalText()  // message_id: a copy of the property's, for diagnostics
        let enqueued: Int64 = try r.next()
        let expiry: Int64 = try r.next()
        let generation = try r.optionalText()
        let deliveryCount: Int = try r.next()
        let lockedUntil: Int64? = try r.optional()
        let lockToken = try r.optionalText()
        let body: Data = try r.optional() ?? Data()
        let properties: Data = try r.next()
        return CloudToDeviceEntry(
            device: device, sequenceNumber: sequenceNumber,
            message: try StoredDeviceMessage.decode(properties, body: Array(body), table: "c2d_message"),
            enqueuedTime: Timestamp(rawValue: enqueued), expiryTime: Timestamp(rawValue: expiry), deviceGenerationID: generation,
            deliveryCount: deliveryCount, state: lockedUntil.map { .invisible(lockedUntil: Timestamp(rawValue: $0)) } ?? .enqueued,
            lockToken: lockToken)
    }

    private static func feedback(from row: Row) throws(StorageError) -> CloudToDeviceFeedback {
        var r = RegistryRowReader(row, table: "c2d_feedback")
        let id: Int64 = try r.next()
        let original = try r.text()
        let device = try r.deviceID()
        let statusName: String = try r.next()
        guard let status = CloudToDeviceFeedback.Status(rawValue: statusName) else {
            throw StorageError(.corrupt, "c2d_feedback: unknown status")
        }
        let description = try r.text()
        let enqueued: Int64 = try r.next()
        let generation = try r.optionalText()
        return CloudToDeviceFeedback(
            id: id, originalMessageID: original, device: device, status: status, description: description,
            enqueuedTime: Timestamp(rawValue: enqueued), deviceGenerationID: generation)
    }
}
