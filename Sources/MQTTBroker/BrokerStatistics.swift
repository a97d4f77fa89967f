import Synchronization

/// Live counters of the broker, readable at any time (tests, `$SYS`-style reporting, metrics export).
/// Relaxed atomics: each is exact, but a reading of several is not a consistent snapshot.
public final class BrokerStatistics: Sendable {
    let connectionsOpen = Atomic<Int>(0)
    let connectionsAccepted = Atomic<Int>(0)
    let connectionsRefused = Atomic<Int>(0)
    let authenticationFailures = Atomic<Int>(0)
    let authorizationDenials = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let messagesSent = Atomic<Int>(0)
    let messagesDropped = Atomic<Int>(0)
    let messagesExpired = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let publishersPaused = Atomic<Int>(0)
    let acknowledgementsWithheld = Atomic<Int>(0)

    init() {}

    /// A point-in-time copy of every counter.
    public struct Snapshot: Sendable, Hashable {
        /// Network connections currently open (before and after CONNECT).
        public var connectionsOpen: Int
        /// CONNECTs accepted since start.
        public var connectionsAccepted: Int
        /// CONNECTs refused (authentication, limits, bad identifiers) since start.
        public var connectionsRefused: Int
        public var authenticationFailures: Int
        /// PUBLISH or SUBSCRIBE refused by a client's topic rights.
        public var authorizationDenials: Int
        /// PUBLISH packets accepted from clients.
        public var messagesReceived: Int
        /// PUBLISH packets written to clients.
        public var messagesSent: Int
        /// Messages lost to full session queues or oversized for the receiver.
        public var messagesDropped: Int
        /// Messages whose Message Expiry Interval passed before delivery.
        public var messagesExpired: Int
        /// Connections closed for protocol violations or malformed packets.
        public var protocolErrors: Int
        /// Times a publisher was paused because a subscriber's queue was full (backpressure).
        public var publishersPaused: Int
        /// Inbound QoS 1/2 messages not acknowledged because a protocol layer could not store them.
        public var acknowledgementsWithheld: Int
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            connectionsOpen: connectionsOpen.load(ordering: .relaxed),
            connectionsAccepted: connectionsAccepted.load(ordering: .relaxed),
            connectionsRefused: connectionsRefused.load(ordering: .relaxed),
            authenticationFailures: authenticationFailures.load(ordering: .relaxed),
            authorizationDenials: authorizationDenials.load(ordering: .relaxed),
            messagesReceived: messagesReceived.load(ordering: .relaxed),
            messagesSent: messagesSent.load(ordering: .relaxed),
            messagesDropped: messagesDropped.load(ordering: .relaxed),
            messagesExpired: messagesExpired.load(ordering: .relaxed),
            protocolErrors: protocolErrors.load(ordering: .relaxed),
            publishersPaused: publishersPaused.load(ordering: .relaxed),
            acknowledgementsWithheld: acknowledgementsWithheld.load(ordering: .relaxed))
    }
}
