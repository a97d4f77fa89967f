import HubCore

/// A cloud-to-device message handed to a device: send `message` (MQTT: on
/// `CloudToDeviceTopic.topic(for:message:)`; HTTPS: body plus `HTTPMessageHeaders.cloudToDeviceReceive`)
/// and settle it with `lockToken` before `lockedUntil`.
public struct CloudToDeviceDelivery: Hashable, Sendable {
    /// The device it is for.
    public var device: DeviceID
    /// The message, with its message id, `to`, enqueued time and sequence number stamped.
    public var message: DeviceMessage
    /// The token that completes, abandons or rejects this delivery (the HTTPS `ETag`, unquoted).
    public var lockToken: String
    /// How many earlier deliveries were abandoned.
    public var deliveryCount: Int
    /// The hub's sequence number of the message.
    public var sequenceNumber: Int64
    /// When the hub accepted the message.
    public var enqueuedTime: Timestamp
    /// When the message expires if not settled.
    public var expiryTime: Timestamp
    /// When the lock runs out and the message goes back to the queue.
    public var lockedUntil: Timestamp

    public init(
        device: DeviceID, message: DeviceMessage, lockToken: String, deliveryCount: Int, sequenceNumber: Int64,
        enqueuedTime: Timestamp, expiryTime: Timestamp, lockedUntil: Timestamp
    ) {
        self.device = device
        self.message = message
        self.lockToken = lockToken
        self.deliveryCount = deliveryCount
        self.sequenceNumber = sequenceNumber
        self.enqueuedTime = enqueuedTime
        self.expiryTime = expiryTime
        self.lockedUntil = lockedUntil
    }
}
