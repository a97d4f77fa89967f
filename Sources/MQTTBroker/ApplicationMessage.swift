import MQTTCodec
import HubCore
import NIOCore

/// A message as the broker routes it: resolved topic (never an alias), payload, QoS and retain flag as
/// published, and the properties that travel to subscribers.
public struct ApplicationMessage: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool
    /// Properties forwarded to subscribers: Payload Format Indicator, Content Type, Response Topic,
    /// Correlation Data, User Properties. Message Expiry is kept in `expiresAt` and recomputed on
    /// delivery; Topic Alias and Subscription Identifiers never travel. [MQTT-3.3.2-*]
    public var properties: MQTTProperties
    /// Monotonic deadline after which the message must no longer be delivered (Message Expiry Interval).
    public var expiresAt: NIODeadline?
    /// Wall-clock ms since 1970 when the broker accepted it (for persistence and expiry across restarts).
    public var receivedAtMillis: Int64
    /// Client identifier of the publisher, for No Local; `nil` for messages the broker itself creates.
    public var originClientID: String?
    /// Set by a protocol layer on a message it delivers directly to one client, to learn when that
    /// client acknowledged it (`BrokerObserver.messageAcknowledged`). Not persisted.
    public var deliveryTag: UInt64?

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS,
        retain: Bool,
        properties: MQTTProperties = [],
        expiresAt: NIODeadline? = nil,
        receivedAtMillis: Int64 = WallClock.nowMillis(),
        originClientID: String? = nil,
        deliveryTag: UInt64? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.expiresAt = expiresAt
        self.receivedAtMillis = receivedAtMillis
        self.originClientID = originClientID
        self.deliveryTag = deliveryTag
    }

    /// True when the message expired before `now`.
    @inlinable func isExpired(at now: NIODeadline) -> Bool {
        if let expiresAt { return expiresAt <= now }
        return false
    }

    /// Seconds of life left at `now`, rounded up, for the Message Expiry Interval sent to a subscriber.
    func remainingExpirySeconds(at now: NIODeadline) -> UInt32? {
        guard let expiresAt else { return nil }
        let left = (expiresAt - now).nanoseconds
        if left <= 0 { return 0 }
        return UInt32(clamping: (left + 999_999_999) / 1_000_000_000)
    }

    /// Bytes this message holds in a queue (for the per-session byte limit).
    var queuedSize: Int { payload.readableBytes + topic.utf8.count + 64 }

    /// Gives the payload its own right-sized storage, so a long-lived queued or retained message does
    /// not pin the (much larger) read buffer it was sliced from.
    mutating func compactPayload() {
        if payload.capacity > payload.readableBytes * 2 + 64 {
            var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
            copy.writeImmutableBuffer(payload)
            payload = copy
        }
    }
}
