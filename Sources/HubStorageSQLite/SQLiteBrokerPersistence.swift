import Foundation
import GRDB
import HubStorage
import Logging
import MQTTBroker
import MQTTCodec
import NIOCore

/// `BrokerPersistence` in the hub's SQLite database: persistent sessions (with subscriptions,
/// outgoing messages and pending inbound QoS 2 IDs) and retained messages.
///
/// Each `write(_:)` is one transaction: session deletes, session upserts, retained deletes, retained
/// upserts, in that order. An upserted session replaces its stored subscriptions, messages and
/// inbound QoS 2 IDs wholesale. All SQL is parameterised. Errors are `StorageError`s.
public final class SQLiteBrokerPersistence: BrokerPersistence {
    private let database: SQLiteDatabase
    private let ownsDatabase: Bool

    /// Uses a database the caller opened with `SQLiteBrokerPersistence.migrations` among its migrations,
    /// and which the caller closes.
    public init(database: SQLiteDatabase) {
        self.database = database
        self.ownsDatabase = false
    }

    /// Opens (or creates) a database at `path` holding only the broker's tables; `close()` closes it.
    public init(
        path: String,
        durability: DurabilityMode,
        logger: Logger = Logger(label: "meridian.storage.sqlite")
    ) throws(StorageError) {
        self.database = try SQLiteDatabase(
            path: path, durability: durability, migrations: Self.migrations, logger: logger)
        self.ownsDatabase = true
    }

    public func load() async throws -> PersistedBrokerState {
        try await database.read("loading broker state") { db in
            try Self.loadState(db)
        }
    }

    public func write(_ batch: PersistenceBatch) async throws {
        if batch.isEmpty { return }
        try await database.write("writing a broker persistence batch") { db in
            try Self.apply(batch, db)
        }
    }

    public func close() async throws {
        if ownsDatabase { try database.close() }
    }
}

// MARK: - writing

extension SQLiteBrokerPersistence {
    static func apply(_ batch: PersistenceBatch, _ db: Database) throws {
        let deleteSession = try db.cachedStatement(sql: "DELETE FROM mqtt_session WHERE client_id = ?")
        for clientID in batch.deletedSessions {
            try deleteSession.execute(arguments: [clientID])
        }
        for session in batch.upsertedSessions {
            try upsert(session, db)
        }
        let deleteRetained = try db.cachedStatement(sql: "DELETE FROM mqtt_retained WHERE topic = ?")
        for topic in batch.deletedRetained {
            try deleteRetained.execute(arguments: [topic])
        }
        let upsertRetained = try db.cachedStatement(
            sql: """
                INSERT INTO mqtt_retained (topic, received_at_millis, payload, qos, retain, dup, packet_id, properties)
                VALUES (?, ?, coalesce(?, x''), ?, ?, ?, ?, ?)
                ON CONFLICT (topic) DO UPDATE SET
                    received_at_millis = excluded.received_at_millis, payload = excluded.payload,
                    qos = excluded.qos, retain = excluded.retain, dup = excluded.dup,
                    packet_id = excluded.packet_id, properties = excluded.properties
                """)
        for retained in batch.upsertedRetained {
            let p = retained.publish
            try upsertRetained.execute(arguments: [
                p.topic, retained.receivedAtMillis, Data(p.payload.readableBytesView), p.qos.rawValue,
                p.retain, p.dup, p.packetID, StoredProperties.encode(p.properties),
            ])
        }
    }

    private static func upsert(_ session: PersistedSession, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO mqtt_session (client_id, protocol_version, expiry_interval, last_seen_millis)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (client_id) DO UPDATE SET
                    protocol_version = excluded.protocol_version, expiry_interval = excluded.expiry_interval,
                    last_seen_millis = excluded.last_seen_millis
                """
        ).execute(arguments: [
            session.clientID, session.protocolVersion.rawValue, session.expiryInterval, session.lastSeenMillis,
        ])
        // Replace the children wholesale.
        for table in ["mqtt_subscription", "mqtt_session_message", "mqtt_inbound_qos2"] {
            try db.cachedStatement(sql: "DELETE FROM \(table) WHERE client_id = ?")
                .execute(arguments: [session.clientID])
        }
        let insertSubscription = try db.cachedStatement(
            sql: """
                INSERT INTO mqtt_subscription (client_id, position, topic_filter, qos, no_local,
                    retain_as_published, retain_handling, subscription_identifier)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (position, s) in session.subscriptions.enumerated() {
            try insertSubscription.execute(arguments: [
                session.clientID, position, s.topicFilter, s.options.qos.rawValue, s.options.noLocal,
                s.options.retainAsPublished, s.options.retainHandling.rawValue, s.subscriptionIdentifier,
            ])
        }
        let insertMessage = try db.cachedStatement(
            sql: """
                INSERT INTO mqtt_session_message (client_id, position, state, received_at_millis, topic,
                    payload, qos, retain, dup, packet_id, properties)
                VALUES (?, ?, ?, ?, ?, coalesce(?, x''), ?, ?, ?, ?, ?)
                """)
        for (position, m) in session.messages.enumerated() {
            let p = m.publish
            try insertMessage.execute(arguments: [
                session.clientID, position, m.state.rawValue, m.receivedAtMillis, p.topic,
                Data(p.payload.readableBytesView), p.qos.rawValue, p.retain, p.dup, p.packetID,
                StoredProperties.encode(p.properties),
            ])
        }
        let insertInbound = try db.cachedStatement(
            sql: "INSERT INTO mqtt_inbound_qos2 (client_id, position, packet_id) VALUES (?, ?, ?)")
        for (position, packetID) in session.pendingInboundQoS2.enumerated() {
            try insertInbound.execute(arguments: [session.clientID, position, packetID])
        }
    }
}

// MARK: - loading

extension SQLiteBrokerPersistence {
    static func loadState(_ db: Database) throws -> PersistedBrokerState {
        // Sessions in first-insertion order (an upsert keeps its rowid), like the in-memory backend.
        var sessions: [PersistedSession] = []
        var index: [String: Int] = [:]
        let sessionRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT client_id, protocol_version, expiry_interval, last_seen_millis
                FROM mqtt_session ORDER BY rowid
                """)
        while let row = try sessionRows.next() {
            var r = ColumnReader(row, table: "mqtt_session")
            let clientID: String = try r.next()
            let versionRaw: UInt8 = try r.next()
            guard let version = MQTTProtocolVersion(rawValue: versionRaw) else {
                throw StorageError(.corrupt, "mqtt_session: unknown protocol version \(versionRaw)")
            }
            index[clientID] = sessions.count
            sessions.append(
                PersistedSession(
                    clientID: clientID, protocolVersion: version, expiryInterval: try r.next(),
                    lastSeenMillis: try r.next()))
        }

        let subscriptionRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT client_id, topic_filter, qos, no_local, retain_as_published, retain_handling,
                    subscription_identifier
                FROM mqtt_subscription ORDER BY client_id, position
                """)
        while let row = try subscriptionRows.next() {
            var r = ColumnReader(row, table: "mqtt_subscription")
            let i = try r.sessionIndex(in: index)
            let filter: String = try r.next()
            let qos = try r.qos()
            let noLocal: Bool = try r.next()
            let retainAsPublished: Bool = try r.next()
            let handlingRaw: UInt8 = try r.next()
            guard let handling = MQTTSubscriptionOptions.RetainHandling(rawValue: handlingRaw) else {
                throw StorageError(.corrupt, "mqtt_subscription: unknown retain handling \(handlingRaw)")
            }
            let options = MQTTSubscriptionOptions(
                qos: qos, noLocal: noLocal, retainAsPublished: retainAsPublished, retainHandling: handling)
            sessions[i].subscriptions.append(
                PersistedSubscription(topicFilter: filter, options: options, subscriptionIdentifier: try r.optional()))
        }

        let messageRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT client_id, state, received_at_millis, topic, payload, qos, retain, dup, packet_id, properties
                FROM mqtt_session_message ORDER BY client_id, position
                """)
        while let row = try messageRows.next() {
            var r = ColumnReader(row, table: "mqtt_session_message")
            let i = try r.sessionIndex(in: index)
            let stateRaw: UInt8 = try r.next()
            guard let state = PersistedMessage.State(rawValue: stateRaw) else {
                throw StorageError(.corrupt, "mqtt_session_message: unknown state \(stateRaw)")
            }
            let receivedAt: Int64 = try r.next()
            sessions[i].messages.append(
                PersistedMessage(publish: try r.publish(), state: state, receivedAtMillis: receivedAt))
        }

        let inboundRows = try Row.fetchCursor(
            db, sql: "SELECT client_id, packet_id FROM mqtt_inbound_qos2 ORDER BY client_id, position")
        while let row = try inboundRows.next() {
            var r = ColumnReader(row, table: "mqtt_inbound_qos2")
            let i = try r.sessionIndex(in: index)
            sessions[i].pendingInboundQoS2.append(try r.next())
        }

        var retained: [PersistedRetainedMessage] = []
        let retainedRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT received_at_millis, topic, payload, qos, retain, dup, packet_id, properties
                FROM mqtt_retained ORDER BY topic
                """)
        while let row = try retainedRows.next() {
            var r = ColumnReader(row, table: "mqtt_retained")
            let receivedAt: Int64 = try r.next()
            retained.append(PersistedRetainedMessage(publish: try r.publish(), receivedAtMillis: receivedAt))
        }
        return PersistedBrokerState(sessions: sessions, retained: retained)
    }
}

/// Reads a row's columns left to right, turning NULLs, out-of-range numbers and wrong types into
/// `StorageError.corrupt` instead of traps.
private struct ColumnReader {
    let row: Row
    let table: String
    var column = 0

    init(_ row: Row, table: String) {
        self.row = row
        self.table = table
    }

    mutating func next<T: DatabaseValueConvertible>() throws(StorageError) -> T {
        guard let value: T = try optional() else {
            throw StorageError(.corrupt, "\(table): unexpected NULL in column \(column - 1)")
        }
        return value
    }

    mutating func optional<T: DatabaseValueConvertible>() throws(StorageError) -> T? {
        let dbValue: DatabaseValue = row[column]
        column += 1
        if dbValue.isNull { return nil }
        guard let value = T.fromDatabaseValue(dbValue) else {
            throw StorageError(.corrupt, "\(table): column \(column - 1) holds an unexpected value")
        }
        return value
    }

    mutating func sessionIndex(in index: [String: Int]) throws(StorageError) -> Int {
        let clientID: String = try next()
        guard let i = index[clientID] else {
            throw StorageError(.corrupt, "\(table): row without a session")
        }
        return i
    }

    mutating func qos() throws(StorageError) -> MQTTQoS {
        let raw: UInt8 = try next()
        guard let qos = MQTTQoS(rawValue: raw) else {
            throw StorageError(.corrupt, "\(table): unknown QoS \(raw)")
        }
        return qos
    }

    /// Reads `topic, payload, qos, retain, dup, packet_id, properties`.
    mutating func publish() throws(StorageError) -> MQTTPublish {
        let topic: String = try next()
        let payload: Data = try optional() ?? Data()
        let qos = try qos()
        let retain: Bool = try next()
        let dup: Bool = try next()
        let packetID: UInt16? = try optional()
        let propertiesBlob: Data? = try optional()
        let properties = try propertiesBlob.map { (blob) throws(StorageError) in try StoredProperties.decode(blob) } ?? []
        return MQTTPublish(
            topic: topic, payload: ByteBuffer(bytes: payload), qos: qos, retain: retain, dup: dup,
            packetID: packetID, properties: properties)
    }
}
