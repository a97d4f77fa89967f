/// One feedback record about a settled cloud-to-device message, as Azure IoT Hub delivers it on
/// `/messages/serviceBound/feedback` (protocol reference §5.2): the service asked for it with
/// `iothub-ack`.
public struct CloudToDeviceFeedback: Hashable, Sendable {
    /// How the message was settled (`statusCode` in the feedback JSON).
    public enum Status: String, Hashable, Sendable, CaseIterable {
        /// The device completed it.
        case success = "Success"
        /// Its time to live ran out before the device completed it.
        case expired = "Expired"
        /// It was abandoned as many times as the queue allows.
        case deliveryCountExceeded = "DeliveryCountExceeded"
        /// The device rejected it.
        case rejected = "Rejected"
        /// The queue was purged while it waited.
        case purged = "Purged"

        /// Azure's `description` for the status.
        public var defaultDescription: String {
            switch self {
            case .success: "Success"
            case .expired: "Message Expired"
            case .deliveryCountExceeded: "Message Delivery Count Exceeded"
            case .rejected: "Message Rejected"
            case .purged: "Message Purged"
            }
        }
    }

    /// The hub's identifier of the record (increasing in creation order); not sent to services.
    public var id: Int64
    /// `originalMessageId`: the message id of the C2D message.
    public var originalMessageID: String
    /// `deviceId`.
    public var device: DeviceID
    /// `statusCode`.
    public var status: Status
    /// `description`.
    public var description: String
    /// `enqueuedTimeUtc`: when the outcome happened.
    public var enqueuedTime: Timestamp
    /// `deviceGenerationId`, when known.
    public var deviceGenerationID: String?

    public init(
        id: Int64, originalMessageID: String, device: DeviceID, status: Status, description: String? = nil,
        enqueuedTime: Timestamp, deviceGenerationID: String? = nil
    ) {
        self.id = id
        self.originalMessageID = originalMessageID
        self.device = device
        self.status = status
        self.description = description ?? status.defaultDescription
        self.enqueuedTime = enqueuedTime
        self.deviceGenerationID = deviceGenerationID
    }
}
