import MQTTCodec

/// Where the broker keeps what must survive a restart: persistent sessions (subscriptions, queued and
/// in-flight messages) and retained messages.
///
/// The broker writes behind: it collects changes and hands them over in batches (every
/// `BrokerConfiguration.persistenceFlushInterval` and once more at shutdown), so a slow disk never
/// sits on the publish path. Each batch must be applied atomically (one transaction).
public protocol BrokerPersistence: Sendable {
    /// Reads everything persisted, once, at start-up.
    func load() async throws -> PersistedBrokerState
    /// Applies one batch atomically, deletes first, then upserts: an upsert replaces a session (with
    /// its subscriptions and messages) or a retained message wholesale. Deleting something absent is
    /// not an error.
    func write(_ batch: PersistenceBatch) async throws
    /// Flushes and releases resources. No calls follow.
    func close() async throws
}

/// Everything `BrokerPersistence.load()` returns.
public struct PersistedBrokerState: Sendable, Hashable {
    public var sessions: [PersistedSession]
    public var retained: [PersistedRetainedMessage]

    public init(sessions: [PersistedSession] = [], retained: [PersistedRetainedMessage] = []) {
        self.sessions = sessions
        self.retained = retained
    }
}

/// One atomic unit of persistence work.
public struct PersistenceBatch: Sendable, Hashable {
    public var upsertedSessions: [PersistedSession]
    public var deletedSessions: [String]
    public var upsertedRetained: [PersistedRetainedMessage]
    public var deletedRetained: [String]

    public init(
        upsertedSessions: [PersistedSession] = [],
        deletedSessions: [String] = [],
        upsertedRetained: [PersistedRetainedMessage] = [],
        deletedRetained: [String] = []
    ) {
        self.upsertedSessions = upsertedSessions
        self.deletedSessions = deletedSessions
        self.upsertedRetained = upsertedRetained
        self.deletedRetained = deletedRetained
    }

    public var isEmpty: Bool {
        upsertedSessions.isEmpty && deletedSessions.isEmpty && upsertedRetained.isEmpty && deletedRetained.isEmpty
    }
}

/// A session that outlives its connection (Session Expiry Interval > 0, or 3.1.1 clean session 0).
public struct PersistedSession: Sendable, Hashable {
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion
    /// Seconds the session lives after its connection ends; `UInt32.max` means never expires.
    public var expiryInterval: UInt32
    /// Wall-clock milliseconds since 1970 when the session was last connected (or saved while connected).
    public var lastSeenMillis: Int64
    public var subscriptions: [PersistedSubscription]
    /// Outgoing messages in delivery order: in-flight ones (with packet IDs) first, then queued ones.
    public var messages: [PersistedMessage]
    /// Packet IDs of inbound QoS 2 messages received (PUBREC sent) but not yet released by PUBREL.
    public var pendingInboundQoS2: [UInt16]

    public init(
        clientID: String,
        protocolVersion: MQTTProtocolVersion,
        expiryInterval: UInt32,
        lastSeenMillis: Int64,
        subscriptions: [PersistedSubscription] = [],
        messages: [PersistedMessage] = [],
        pendingInboundQoS2: [UInt16] = []
    ) {
        self.clientID = clientID
        self.protocolVersion = protocolVersion
        self.expiryInterval = expiryInterval
        self.lastSeenMillis = lastSeenMillis
        self.subscriptions = subscriptions
        self.messages = messages
        self.pendingInboundQoS2 = pendingInboundQoS2
    }
}

/// One subscription of a persisted session.
public struct PersistedSubscription: Sendable, Hashable {
    /// The filter as the client sent it, `$share/…` prefix included.
    public var topicFilter: String
    public var options: MQTTSubscriptionOptions
    public var subscriptionIdentifier: UInt32?

    public init(topicFilter: String, options: MQTTSubscriptionOptions, subscriptionIdentifier: UInt32? = nil) {
        self.topicFilter = topicFilter
        self.options = options
        self.subscriptionIdentifier = subscriptionIdentifier
    }
}

/// An outgoing message of a session, or its place in the QoS 1/2 handshake.
public struct PersistedMessage: Sendable, Hashable {
    /// Where the message stands in its delivery handshake.
    public enum State: UInt8, Sendable, Hashable, CaseIterable {
        /// Not yet sent (or sent at QoS 0 and lost with the connection).
        case queued = 0
        /// QoS 1 sent, PUBACK outstanding.
        case awaitingPubAck = 1
        /// QoS 2 sent, PUBREC outstanding.
        case awaitingPubRec = 2
        /// QoS 2 PUBREL sent, PUBCOMP outstanding; only the packet ID matters from here on.
        case awaitingPubComp = 3
    }

    /// Topic (never an alias), payload, QoS, retain flag, properties as they will be delivered;
    /// `packetID` is set for in-flight states.
    public var publish: MQTTPublish
    public var state: State
    /// Wall-clock ms since 1970 when the message was accepted (for Message Expiry Interval).
    public var receivedAtMillis: Int64

    public init(publish: MQTTPublish, state: State, receivedAtMillis: Int64) {
        self.publish = publish
        self.state = state
        self.receivedAtMillis = receivedAtMillis
    }
}

/// A retained message as stored.
public struct PersistedRetainedMessage: Sendable, Hashable {
    public var publish: MQTTPublish
    /// Wall-clock ms since 1970 when it was retained (for Message Expiry Interval).
    public var receivedAtMillis: Int64

    public init(publish: MQTTPublish, receivedAtMillis: Int64) {
        self.publish = publish
        self.receivedAtMillis = receivedAtMillis
    }
}
