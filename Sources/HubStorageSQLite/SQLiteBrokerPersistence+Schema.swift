import GRDB

extension SQLiteBrokerPersistence {
    /// The broker's tables, in the order they must be applied. Never edit a released migration: add one.
    ///
    /// - `mqtt_session`: one row per persistent session.
    /// - `mqtt_subscription`: a session's subscriptions, in the order given (`position`).
    /// - `mqtt_session_message`: a session's outgoing messages in delivery order (`position`).
    /// - `mqtt_inbound_qos2`: packet IDs of inbound QoS 2 messages awaiting PUBREL, in order.
    /// - `mqtt_retained`: one retained message per topic.
    ///
    /// Child rows go with their session (`ON DELETE CASCADE`). A PUBLISH is stored as columns
    /// (`topic`, `payload`, `qos`, `retain`, `dup`, `packet_id`) plus its 5.0 properties as a BLOB in
    /// `StoredProperties`' format (NULL when there are none).
    public static let migrations: [SQLiteMigration] = [
        SQLiteMigration("broker-1-sessions-and-retained") { db in
            try db.execute(
                sql: """
                    CREATE TABLE mqtt_session (
                        client_id TEXT NOT NULL PRIMARY KEY,
                        protocol_version INTEGER NOT NULL,
                        expiry_interval INTEGER NOT NULL,
                        last_seen_millis INTEGER NOT NULL
                    );
                    CREATE TABLE mqtt_subscription (
                        client_id TEXT NOT NULL REFERENCES mqtt_session(client_id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        topic_filter TEXT NOT NULL,
                        qos INTEGER NOT NULL,
                        no_local INTEGER NOT NULL,
                        retain_as_published INTEGER NOT NULL,
                        retain_handling INTEGER NOT NULL,
                        subscription_identifier INTEGER,
                        PRIMARY KEY (client_id, position)
                    ) WITHOUT ROWID;
                    CREATE TABLE mqtt_session_message (
                        client_id TEXT NOT NULL REFERENCES mqtt_session(client_id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        state INTEGER NOT NULL,
                        received_at_millis INTEGER NOT NULL,
                        topic TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        qos INTEGER NOT NULL,
                        retain INTEGER NOT NULL,
                        dup INTEGER NOT NULL,
                        packet_id INTEGER,
                        properties BLOB,
                        PRIMARY KEY (client_id, position)
                    );
                    CREATE TABLE mqtt_inbound_qos2 (
                        client_id TEXT NOT NULL REFERENCES mqtt_session(client_id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        packet_id INTEGER NOT NULL,
                        PRIMARY KEY (client_id, position)
                    ) WITHOUT ROWID;
                    CREATE TABLE mqtt_retained (
                        topic TEXT NOT NULL PRIMARY KEY,
                        received_at_millis INTEGER NOT NULL,
                        payload BLOB NOT NULL,
                        qos INTEGER NOT NULL,
                        retain INTEGER NOT NULL,
                        dup INTEGER NOT NULL,
                        packet_id INTEGER,
                        properties BLOB
                    );
                    """)
        }
    ]
}
