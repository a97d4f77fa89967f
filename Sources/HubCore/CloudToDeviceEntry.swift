/// One message in a device's cloud-to-device queue, with its delivery state: what the queue keeps and
/// what a `CloudToDeviceStore` persists (protocol reference §5.3).
public struct CloudToDeviceEntry: Hashable, Sendable {
    /// Where a queued message is in its lifecycle. Settled messages (completed, rejected, expired,
    /// dead-lettered, purged) leave the queue, so they have no state here.
    public enum State: Hashable, Sendable {
        /// Waiting for delivery (also after an abandon or an expired lock).
        case enqueued
        /// Delivered and locked until `lockedUntil`; nobody else receives it meanwhile. When the lock
        /// expires the message is enqueued again.
        case invisible(lockedUntil: Timestamp)
    }

    /// The device the message is for.
    public var device: DeviceID
    /// The hub's sequence number: unique across the hub, increasing in enqueue order (the queue order).
    public var sequenceNumber: Int64
    /// The message, with `messageID`, `to`, `enqueuedTime` and `sequenceNumber` stamped at enqueue.
    public var message: DeviceMessage
    /// When the hub accepted it.
    public var enqueuedTime: Timestamp
    /// When it expires if still unsettled: the message's own expiry, else enqueue time plus the default
    /// time to live.
    public var expiryTime: Timestamp
    /// The generation id of the device when the message was sent, for feedback records.
    public var deviceGenerationID: String?
    /// How many times the message was abandoned (each abandon ends one delivery).
    public var deliveryCount: Int
    public var state: State
    /// The lock token of the latest delivery, kept after its lock expires so that a late settle can be
    /// told "lock lost" rather than "not found". Nil until the first delivery.
    public var lockToken: String?

    public init(
        device: DeviceID, sequenceNumber: Int64, message: DeviceMessage, enqueuedTime: Timestamp,
        expiryTime: Timestamp, deviceGenerationID: String? = nil, deliveryCount: Int = 0, state: State = .enqueued,
        lockToken: String? = nil
    ) {
        self.device = device
        self.sequenceNumber = sequenceNumber
        self.message = message
        self.enqueuedTime = enqueuedTime
        self.expiryTime = expiryTime
        self.deviceGenerationID = deviceGenerationID
        self.deliveryCount = deliveryCount
        self.state = state
        self.lockToken = lockToken
    }
}
