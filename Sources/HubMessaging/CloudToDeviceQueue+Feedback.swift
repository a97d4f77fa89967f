import HubCore
import HubStorage

/// A batch of feedback records received by a service: send `records` (JSON array, content type
/// `application/vnd.microsoft.iothub.feedback.json`) with `lockToken` as the `ETag`, then complete or
/// abandon the whole batch with it before `lockedUntil`.
public struct FeedbackBatch: Hashable, Sendable {
    /// The token that completes or abandons the batch.
    public var lockToken: String
    /// The records, oldest first.
    public var records: [CloudToDeviceFeedback]
    /// When the lock runs out and the records can be received again.
    public var lockedUntil: Timestamp

    public init(lockToken: String, records: [CloudToDeviceFeedback], lockedUntil: Timestamp) {
        self.lockToken = lockToken
        self.records = records
        self.lockedUntil = lockedUntil
    }
}

/// A feedback record waiting for a service, and the batch (lock token) holding it, if any.
struct FeedbackSlot: Sendable {
    var record: CloudToDeviceFeedback
    var batch: String?
}

/// The lock of a feedback batch handed to a service.
struct FeedbackLock: Sendable {
    var lockedUntil: Timestamp
}

extension CloudToDeviceQueue {
    /// Feedback records waiting (visible or locked), for tests and diagnostics.
    public var feedbackCount: Int { feedback.count }

    /// Locks and returns the oldest visible feedback records, up to `maxFeedbackBatchSize` (or `limit`
    /// when smaller), as one batch; nil when none is waiting. Mirrors `GET
    /// /messages/serviceBound/feedback` and the AMQP feedback link.
    public mutating func receiveFeedback(now: Timestamp, limit: Int? = nil) -> FeedbackBatch? {
        sweepFeedback(now: now)
        let size = min(limit ?? configuration.maxFeedbackBatchSize, configuration.maxFeedbackBatchSize)
        guard size > 0 else { return nil }
        let token = makeToken()
        let lockedUntil = now + configuration.feedbackLockTimeout
        var records: [CloudToDeviceFeedback] = []
        for index in feedback.indices where isVisible(feedback[index], now: now) {
            feedback[index].batch = token
            records.append(feedback[index].record)
            if records.count == size { break }
        }
        guard !records.isEmpty else { return nil }
        feedbackBatches[token] = FeedbackLock(lockedUntil: lockedUntil)
        Self.lower(&nextDeadline, to: lockedUntil)
        return FeedbackBatch(lockToken: token, records: records, lockedUntil: lockedUntil)
    }

    /// The service has the batch: its records are deleted. `.lockLost` (412002) when the batch's lock
    /// ran out (its records can be received again), `.messageNotFound` (404) for an unknown token.
    public mutating func completeFeedback(lockToken: String, now: Timestamp) throws(MessagingError) {
        try checkFeedbackLock(lockToken, now: now)
        feedbackBatches[lockToken] = nil
        let removed = feedback.filter { $0.batch == lockToken }
        feedback.removeAll { $0.batch == lockToken }
        for slot in removed { effects.changes.append(.removeFeedback(id: slot.record.id)) }
    }

    /// The service gives the batch back: its records are visible again. Errors as for
    /// `completeFeedback`.
    public mutating func abandonFeedback(lockToken: String, now: Timestamp) throws(MessagingError) {
        try checkFeedbackLock(lockToken, now: now)
        feedbackBatches[lockToken] = nil
        for index in feedback.indices where feedback[index].batch == lockToken {
            feedback[index].batch = nil
        }
    }

    /// Records feedback about `entry` leaving the queue with `status` (the caller checked the ack mode),
    /// dropping the oldest records beyond `maxFeedbackCount`.
    mutating func addFeedback(for entry: CloudToDeviceEntry, _ status: CloudToDeviceFeedback.Status, now: Timestamp) {
        let record = CloudToDeviceFeedback(
            id: counters.nextFeedbackID, originalMessageID: entry.message.messageID ?? "", device: entry.device, status: status,
            enqueuedTime: now, deviceGenerationID: entry.deviceGenerationID)
        counters.nextFeedbackID += 1
        feedback.append(FeedbackSlot(record: record))
        effects.changes.append(.saveFeedback(record))
        effects.changes.append(.setCounters(counters))
        let excess = feedback.count - configuration.maxFeedbackCount
        if excess > 0 {
            for slot in feedback.prefix(excess) { effects.changes.append(.removeFeedback(id: slot.record.id)) }
            feedback.removeFirst(excess)
        }
        Self.lower(&nextDeadline, to: now + configuration.feedbackTimeToLive)
    }

    /// Drops feedback older than `feedbackTimeToLive` and forgets batches whose lock ran out more than
    /// one lock period ago; lowers `nextDeadline` to the next of those times.
    mutating func sweepFeedback(now: Timestamp) {
        let ttl = configuration.feedbackTimeToLive
        let stale = feedback.prefix { $0.record.enqueuedTime + ttl <= now }.count
        if stale > 0 {
            for slot in feedback.prefix(stale) { effects.changes.append(.removeFeedback(id: slot.record.id)) }
            feedback.removeFirst(stale)
        }
        if let oldest = feedback.first { Self.lower(&nextDeadline, to: oldest.record.enqueuedTime + ttl) }
        for (token, lock) in feedbackBatches {
            let forgetAt = lock.lockedUntil + configuration.feedbackLockTimeout
            if forgetAt <= now {
                feedbackBatches[token] = nil
            } else {
                Self.lower(&nextDeadline, to: lock.lockedUntil <= now ? forgetAt : lock.lockedUntil)
            }
        }
    }

    private func checkFeedbackLock(_ token: String, now: Timestamp) throws(MessagingError) {
        guard let lock = feedbackBatches[token] else {
            throw MessagingError(.messageNotFound, "no feedback batch holds this lock token")
        }
        guard now < lock.lockedUntil else {
            throw MessagingError(.lockLost, "the lock of this feedback batch expired")
        }
    }

    private func isVisible(_ slot: FeedbackSlot, now: Timestamp) -> Bool {
        guard let batch = slot.batch, let lock = feedbackBatches[batch] else { return true }
        return lock.lockedUntil <= now
    }
}
