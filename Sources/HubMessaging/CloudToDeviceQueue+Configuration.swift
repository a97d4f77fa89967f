import HubCore

extension CloudToDeviceQueue {
    /// The limits of the hub's cloud-to-device queues. Defaults are Azure IoT Hub's (protocol reference
    /// §5.3, §8); out-of-range values are clamped when the queue is created (`normalized`).
    public struct Configuration: Sendable, Hashable {
        /// Messages a device may have waiting (enqueued or locked); one more is refused with 403004.
        /// Default 50.
        public var maxQueueDepth: Int = 50
        /// The largest message accepted, counted as `DeviceMessage.sizeInBytes`; larger ones are refused
        /// with 413001. Default 64 KiB.
        public var maxMessageSize: Int = DeviceMessage.maxCloudToDeviceSize
        /// How long a message without its own expiry time waits before it expires. Default 1 hour;
        /// clamped to `minimumTimeToLive…maximumTimeToLive`.
        public var defaultTimeToLive: Duration = .seconds(3600)
        /// The shortest time to live a message's own expiry time may give it. Default 1 minute.
        public var minimumTimeToLive: Duration = .seconds(60)
        /// The longest time to live a message's own expiry time may give it. Default 48 hours.
        public var maximumTimeToLive: Duration = .seconds(48 * 3600)
        /// How many deliveries a message gets: after this many abandons it is dead-lettered
        /// (`DeliveryCountExceeded`). Default 10; clamped to 1…100.
        public var maxDeliveryCount: Int = 10
        /// How long a delivered message stays locked (invisible) waiting for complete, abandon or reject;
        /// then it goes back to the queue. Default 60 s (Azure's is fixed).
        public var lockTimeout: Duration = .seconds(60)
        /// How long a feedback record waits for a service to receive it. Default 2 days (Azure's maximum).
        public var feedbackTimeToLive: Duration = .seconds(2 * 86_400)
        /// Feedback records kept at most; beyond it the oldest are dropped. Default 10 000.
        public var maxFeedbackCount: Int = 10_000
        /// How long a received feedback batch stays locked waiting for complete or abandon. Default 60 s;
        /// clamped to Azure's 5…300 s.
        public var feedbackLockTimeout: Duration = .seconds(60)
        /// Records per feedback batch at most. Default 64 (Azure's batch size).
        public var maxFeedbackBatchSize: Int = 64

        /// The defaults.
        public init() {}

        /// The configuration with every value in its allowed range.
        public var normalized: Configuration {
            var c = self
            c.maxQueueDepth = max(1, maxQueueDepth)
            c.maxMessageSize = max(0, maxMessageSize)
            c.minimumTimeToLive = max(.milliseconds(1), minimumTimeToLive)
            c.maximumTimeToLive = max(c.minimumTimeToLive, maximumTimeToLive)
            c.defaultTimeToLive = min(max(defaultTimeToLive, c.minimumTimeToLive), c.maximumTimeToLive)
            c.maxDeliveryCount = min(max(maxDeliveryCount, 1), 100)
            c.lockTimeout = max(.milliseconds(1), lockTimeout)
            c.feedbackTimeToLive = min(max(.milliseconds(1), feedbackTimeToLive), .seconds(2 * 86_400))
            c.maxFeedbackCount = max(1, maxFeedbackCount)
            c.feedbackLockTimeout = min(max(feedbackLockTimeout, .seconds(5)), .seconds(300))
            c.maxFeedbackBatchSize = max(1, maxFeedbackBatchSize)
            return c
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), for arithmetic on `Timestamp`s.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension Timestamp {
    /// The time `duration` later.
    static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(rawValue: lhs.rawValue + rhs.milliseconds)
    }
}
