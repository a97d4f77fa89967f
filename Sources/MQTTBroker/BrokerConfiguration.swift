import MQTTCodec

/// Every broker limit and behaviour switch, with its default. HubServer fills it from flags and the
/// config file; nothing in the broker reads the environment itself.
public struct BrokerConfiguration: Sendable, Hashable {
    /// Largest packet accepted from clients, fixed header included (CONNACK Maximum Packet Size).
    public var maximumPacketSize: Int = MQTTDecoderConfiguration.defaultMaximumPacketSize
    /// Cap on User Property pairs in one packet.
    public var maximumUserProperties: Int = 64
    /// Open connections at most; further CONNECTs get 0x89 Server busy (3.1.1: 0x03) and are closed.
    public var maximumConnections: Int = 50_000
    /// A connection must complete CONNECT within this many seconds (slowloris guard, M38).
    public var connectTimeoutSeconds: Double = 10
    /// Receive Maximum the broker grants each client: unacknowledged inbound QoS 1/2 PUBLISHes (M33).
    public var receiveMaximum: UInt16 = 100
    /// Outbound in-flight window when the client states none (3.1.1 clients; 5.0 default is 65,535).
    public var defaultOutboundInflight: UInt16 = 100
    /// Topic Alias Maximum the broker accepts from clients (M32).
    public var topicAliasMaximum: UInt16 = 10
    /// Highest QoS the broker supports (CONNACK Maximum QoS when below 2).
    public var maximumQoS: MQTTQoS = .exactlyOnce
    /// Whether retained messages are kept at all.
    public var retainAvailable: Bool = true
    /// Whether `$share/` subscriptions are accepted.
    public var sharedSubscriptionsAvailable: Bool = true
    /// Whether wildcard filters are accepted.
    public var wildcardSubscriptionsAvailable: Bool = true
    /// Whether subscription identifiers are supported.
    public var subscriptionIdentifiersAvailable: Bool = true
    /// Subscriptions one session may hold at most.
    public var maximumSubscriptionsPerSession: Int = 100
    /// Topic levels a name or filter may have at most.
    public var maximumTopicLevels: Int = MQTTTopic.defaultMaximumLevels
    /// Messages queued for one session (online backlog or offline queue) at most. When full, QoS 0
    /// messages are dropped first; the drop is counted.
    public var maximumQueuedMessages: Int = 1_000
    /// Bytes (payload + topic) queued for one session at most.
    public var maximumQueuedBytes: Int = 10 * 1024 * 1024
    /// Upper bound on a client's Session Expiry Interval, in seconds (clients asking more get this).
    public var maximumSessionExpiryInterval: UInt32 = 7 * 24 * 3600
    /// Session expiry for 3.1.1 clean-session-0 clients, which have no expiry of their own.
    public var persistentSessionExpiryV3: UInt32 = 7 * 24 * 3600
    /// Largest Keep Alive accepted; a larger request is answered with Server Keep Alive (5.0).
    public var maximumKeepAlive: UInt16 = 3600
    /// Keep Alive imposed on clients that ask for 0 (no keep-alive); 0 leaves their choice alone.
    public var serverKeepAliveWhenZero: UInt16 = 0
    /// Retained messages held at most; beyond it, new retained topics are not stored (counted).
    public var maximumRetainedMessages: Int = 1_000_000
    /// How often write-behind persistence flushes its batch, in seconds.
    public var persistenceFlushInterval: Double = 1.0
    /// Longest client identifier accepted, in UTF-8 bytes (longer ones get 0x85 / 3.1.1 0x02).
    public var maximumClientIDLength: Int = 256
    /// Accept client identifiers of the form `{device}/{module}` (exactly one `/`, both sides non-empty):
    /// Azure module identities connect with them. Off by default, since a `/` would let the id span
    /// topic levels in per-client ACL patterns (CVE-2017-7650 class); when on, the authenticator must
    /// accept such ids only for module identities (`HubMQTTAuthenticator` does). `+`, `#` and NUL are
    /// always refused.
    public var allowsModuleClientIDs: Bool = false
    /// New connections (CONNECT packets) accepted per second, hub-wide, with a burst of five seconds'
    /// worth; over it, CONNACK 0x9F Connection rate exceeded (3.1.1: 0x03). 0 = unlimited.
    public var connectRatePerSecond: Int = 0
    /// Accept clients that send no credentials (development).
    public var allowAnonymous: Bool = false

    public init() {}
}
