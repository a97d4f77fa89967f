import HubCore

/// Durable cloud-to-device queues and feedback, so that nothing a service enqueued is lost on restart.
/// Backends: in-memory (tests, reference), SQLite. Every backend passes `CloudToDeviceStoreConformance`
/// (HubTestKit).
///
/// The store is dumb on purpose: the queue state machine in HubMessaging decides everything and hands
/// the store an ordered list of changes per operation; the store applies each list atomically and gives
/// everything back at start. It never interprets states (turning locked messages back into enqueued
/// ones after a restart is the state machine's job).
public protocol CloudToDeviceStore: Sendable {
    /// Everything stored: messages ordered by sequence number, feedback ordered by id, and the counters.
    func load() async throws(StorageError) -> CloudToDeviceSnapshot
    /// Applies `changes` in order, all or nothing.
    func apply(_ changes: [CloudToDeviceChange]) async throws(StorageError)
}

/// One change to a `CloudToDeviceStore`.
public enum CloudToDeviceChange: Hashable, Sendable {
    /// Inserts the entry, or replaces the one with the same sequence number.
    case saveMessage(CloudToDeviceEntry)
    /// Removes the entry with this sequence number; nothing when there is none.
    case removeMessage(sequenceNumber: Int64)
    /// Inserts the record, or replaces the one with the same id.
    case saveFeedback(CloudToDeviceFeedback)
    /// Removes the feedback record with this id; nothing when there is none.
    case removeFeedback(id: Int64)
    /// Records the next sequence number and feedback id to hand out, so they never repeat after a
    /// restart even when every message has left the queue.
    case setCounters(CloudToDeviceCounters)
}

/// The next identifiers a cloud-to-device queue hands out.
public struct CloudToDeviceCounters: Hashable, Sendable {
    /// The next message sequence number.
    public var nextSequenceNumber: Int64
    /// The next feedback record id.
    public var nextFeedbackID: Int64

    /// Both start at 1 in an empty store.
    public init(nextSequenceNumber: Int64 = 1, nextFeedbackID: Int64 = 1) {
        self.nextSequenceNumber = nextSequenceNumber
        self.nextFeedbackID = nextFeedbackID
    }
}

/// The contents of a `CloudToDeviceStore`.
public struct CloudToDeviceSnapshot: Hashable, Sendable {
    /// Every queued message of every device, ordered by sequence number.
    public var messages: [CloudToDeviceEntry]
    /// Every feedback record, ordered by id.
    public var feedback: [CloudToDeviceFeedback]
    /// The last counters saved (`CloudToDeviceCounters()` when none were).
    public var counters: CloudToDeviceCounters

    public init(messages: [CloudToDeviceEntry] = [], feedback: [CloudToDeviceFeedback] = [], counters: CloudToDeviceCounters = .init()) {
        self.messages = messages
        self.feedback = feedback
        self.counters = counters
    }
}
