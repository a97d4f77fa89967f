import HubCore
import HubStorage

/// The hub's cloud-to-device queues, one per device, and the feedback queue: a pure state machine
/// (protocol reference §5.3). Time is an input; nothing here does I/O.
///
/// A message is **enqueued**, then **invisible** while delivered and locked, then leaves the queue when
/// it is **completed**, **rejected** (dead-lettered), **expired** (time to live), **dead-lettered** after
/// `maxDeliveryCount` abandons, or **purged**. An **abandon** or an expired lock puts it back (an abandon
/// counts a delivery; a lock timeout does not, since MQTT devices cannot abandon and their PUBACK
/// completes). Each device's queue is delivered in sequence order.
///
/// Every operation records what it changed as `Effects` (store changes and devices that became ready);
/// the owner takes them with `takeEffects()` after each operation, persists the changes and wakes the
/// delivery loops. `CloudToDeviceService` does that.
public struct CloudToDeviceQueue: Sendable {
    /// The limits in force (normalized).
    public let configuration: Configuration
    /// Per-device queues, only for devices with messages; each ordered by sequence number.
    private var queues: [DeviceID: [CloudToDeviceEntry]] = [:]
    /// Feedback records waiting for a service, oldest first, with the batch that holds each.
    var feedback: [FeedbackSlot] = []
    /// Feedback batches handed out, by lock token; kept for one more lock period after their lock ran
    /// out so that a late settle is answered "lock lost".
    var feedbackBatches: [String: FeedbackLock] = [:]
    var counters: CloudToDeviceCounters
    /// The earliest time `expire(now:)` has work to do (a lock or time to live runs out); it returns at
    /// once before then. Operations only ever lower it; a sweep recomputes it.
    var nextDeadline: Timestamp?
    /// What happened since the last `takeEffects()`.
    var effects = Effects()
    private var readySet: Set<DeviceID> = []
    /// Makes lock tokens and missing message ids.
    let makeToken: @Sendable () -> String

    /// A queue holding `snapshot` (what a `CloudToDeviceStore` loaded; empty by default).
    ///
    /// Messages that were invisible when the snapshot was taken are enqueued again (their locks died with
    /// the process; the lock token is kept so a late settle gets "lock lost"), and every feedback record
    /// is visible. `makeToken` makes lock tokens and missing message ids (random UUIDs by default).
    public init(
        configuration: Configuration = Configuration(), snapshot: CloudToDeviceSnapshot = CloudToDeviceSnapshot(),
        makeToken: @escaping @Sendable () -> String = { RandomToken.uuid() }
    ) {
        self.configuration = configuration.normalized
        self.makeToken = makeToken
        var counters = snapshot.counters
        for var entry in snapshot.messages {
            entry.state = .enqueued
            queues[entry.device, default: []].append(entry)
            counters.nextSequenceNumber = max(counters.nextSequenceNumber, entry.sequenceNumber + 1)
            Self.lower(&nextDeadline, to: entry.expiryTime)
        }
        for device in queues.keys { queues[device]!.sort { $0.sequenceNumber < $1.sequenceNumber } }
        for record in snapshot.feedback.sorted(by: { $0.id < $1.id }) {
            feedback.append(FeedbackSlot(record: record))
            counters.nextFeedbackID = max(counters.nextFeedbackID, record.id + 1)
            Self.lower(&nextDeadline, to: record.enqueuedTime + self.configuration.feedbackTimeToLive)
        }
        self.counters = counters
    }

    /// Takes what the operations since the last call changed.
    public mutating func takeEffects() -> Effects {
        defer {
            effects = Effects()
            readySet.removeAll(keepingCapacity: true)
        }
        return effects
    }

    // MARK: reading

    /// Messages waiting for `device` (enqueued or locked), including expired ones not yet swept.
    public func pendingCount(_ device: DeviceID) -> Int { queues[device]?.count ?? 0 }

    /// Every device with at least one message waiting, in no particular order (for delivery loops
    /// after a restart).
    public var devicesWithMessages: [DeviceID] { Array(queues.keys) }

    /// The queued messages of `device` in delivery order, with their states (diagnostics, tests).
    public func entries(of device: DeviceID) -> [CloudToDeviceEntry] { queues[device] ?? [] }

    // MARK: enqueue

    /// Adds `message` to `device`'s queue and returns the queued entry: the message id is assigned when
    /// missing, `to` set to `/devices/{id}/messages/devicebound`, enqueued time and sequence number
    /// stamped, and the connection fields of device-to-cloud messages cleared.
    ///
    /// Errors: `.messageTooLarge` (413001) over `maxMessageSize`; `.invalidArgument` (400004) for an
    /// expiry time less than `minimumTimeToLive` or more than `maximumTimeToLive` away, a message id
    /// over 128 characters, or properties that could not be delivered (an application property name
    /// that is empty, not an HTTP token or a system key; names or values that are not printable ASCII);
    /// `.queueFull` (403004) when `maxQueueDepth` messages are waiting.
    @discardableResult
    public mutating func enqueue(
        _ message: DeviceMessage, to device: DeviceID, deviceGenerationID: String? = nil, now: Timestamp
    ) throws(MessagingError) -> CloudToDeviceEntry {
        guard message.sizeInBytes <= configuration.maxMessageSize else {
            throw MessagingError(.messageTooLarge, "cloud-to-device messages are limited to \(configuration.maxMessageSize) bytes")
        }
        try Self.validateProperties(message)
        let expiryTime: Timestamp
        if let requested = message.absoluteExpiryTime {
            guard requested >= now + configuration.minimumTimeToLive, requested <= now + configuration.maximumTimeToLive else {
                throw MessagingError(.invalidArgument, "the expiry time must be between 1 minute and 48 hours away")
            }
            expiryTime = requested
        } else {
            expiryTime = now + configuration.defaultTimeToLive
        }
        settleExpired(of: device, now: now)
        guard pendingCount(device) < configuration.maxQueueDepth else {
            throw MessagingError(.queueFull, "the device's cloud-to-device queue is full (\(configuration.maxQueueDepth) messages)")
        }
        let sequenceNumber = counters.nextSequenceNumber
        counters.nextSequenceNumber += 1
        var stamped = message
        if stamped.messageID == nil { stamped.messageID = makeToken() }
        stamped.to = CloudToDeviceTopic.address(of: device)
        stamped.enqueuedTime = now
        stamped.sequenceNumber = sequenceNumber
        stamped.connectionDeviceID = nil
        stamped.connectionModuleID = nil
        stamped.connectionAuthMethod = nil
        stamped.connectionAuthGenerationID = nil
        stamped.messageSource = nil
        stamped.mqttRetain = false
        let entry = CloudToDeviceEntry(
            device: device, sequenceNumber: sequenceNumber, message: stamped, enqueuedTime: now, expiryTime: expiryTime,
            deviceGenerationID: deviceGenerationID)
        queues[device, default: []].append(entry)
        effects.changes.append(.saveMessage(entry))
        effects.changes.append(.setCounters(counters))
        markReady(device)
        Self.lower(&nextDeadline, to: expiryTime)
        return entry
    }

    // MARK: delivery

    /// Locks and returns the next enqueued message of `device`, or nil when none is waiting.
    public mutating func nextForDelivery(_ device: DeviceID, now: Timestamp) -> CloudToDeviceDelivery? {
        deliver(device, limit: 1, now: now).first
    }

    /// Locks and returns up to `limit` enqueued messages of `device` in sequence order (MQTT keeps
    /// several in flight). Messages already locked are skipped, so a second call delivers the next ones.
    public mutating func deliver(_ device: DeviceID, limit: Int, now: Timestamp) -> [CloudToDeviceDelivery] {
        settleExpired(of: device, now: now)
        guard limit > 0, var queue = queues[device] else { return [] }
        var deliveries: [CloudToDeviceDelivery] = []
        let lockedUntil = now + configuration.lockTimeout
        for index in queue.indices where queue[index].state == .enqueued {
            let token = makeToken()
            queue[index].state = .invisible(lockedUntil: lockedUntil)
            queue[index].lockToken = token
            let entry = queue[index]
            effects.changes.append(.saveMessage(entry))
            deliveries.append(
                CloudToDeviceDelivery(
                    device: device, message: entry.message, lockToken: token, deliveryCount: entry.deliveryCount,
                    sequenceNumber: entry.sequenceNumber, enqueuedTime: entry.enqueuedTime, expiryTime: entry.expiryTime,
                    lockedUntil: lockedUntil))
            if deliveries.count == limit { break }
        }
        queues[device] = queue
        if !deliveries.isEmpty { Self.lower(&nextDeadline, to: lockedUntil) }
        return deliveries
    }

    // MARK: settling

    /// The device finished with the message: it leaves the queue (positive feedback if asked for).
    /// `.lockLost` (412002) when the delivery's lock has run out, `.messageNotFound` (404) when no
    /// queued message of `device` carries `lockToken`.
    public mutating func complete(_ device: DeviceID, lockToken: String, now: Timestamp) throws(MessagingError) {
        let index = try lockedIndex(device, lockToken, now: now)
        let entry = remove(device, at: index)
        if entry.message.ack?.wantsPositive == true { addFeedback(for: entry, .success, now: now) }
    }

    /// The device gives the message back: it is enqueued again with one more delivery counted, or
    /// dead-lettered (`DeliveryCountExceeded`, negative feedback if asked for) once it has been delivered
    /// `maxDeliveryCount` times. Errors as for `complete`.
    public mutating func abandon(_ device: DeviceID, lockToken: String, now: Timestamp) throws(MessagingError) {
        let index = try lockedIndex(device, lockToken, now: now)
        queues[device]![index].deliveryCount += 1
        if queues[device]![index].deliveryCount >= configuration.maxDeliveryCount {
            let entry = remove(device, at: index)
            if entry.message.ack?.wantsNegative == true { addFeedback(for: entry, .deliveryCountExceeded, now: now) }
        } else {
            queues[device]![index].state = .enqueued
            effects.changes.append(.saveMessage(queues[device]![index]))
            markReady(device)
        }
    }

    /// The device refuses the message: it is dead-lettered (negative feedback if asked for). Errors as
    /// for `complete`.
    public mutating func reject(_ device: DeviceID, lockToken: String, now: Timestamp) throws(MessagingError) {
        let index = try lockedIndex(device, lockToken, now: now)
        let entry = remove(device, at: index)
        if entry.message.ack?.wantsNegative == true { addFeedback(for: entry, .rejected, now: now) }
    }

    /// Removes every message of `device`, locked ones included (negative feedback `Purged` where asked
    /// for), and returns how many there were.
    @discardableResult
    public mutating func purge(_ device: DeviceID, now: Timestamp) -> Int {
        guard let queue = queues.removeValue(forKey: device) else { return 0 }
        for entry in queue {
            effects.changes.append(.removeMessage(sequenceNumber: entry.sequenceNumber))
            if entry.message.ack?.wantsNegative == true { addFeedback(for: entry, .purged, now: now) }
        }
        return queue.count
    }

    // MARK: time

    /// The sweep: locks that ran out put their messages back in the queue, messages past their time to
    /// live expire (negative feedback where asked for), old feedback records and batch locks go. Cheap
    /// when nothing is due (`nextDeadline`); call it every second or so. Returns how many messages
    /// expired.
    @discardableResult
    public mutating func expire(now: Timestamp) -> Int {
        if let nextDeadline, now < nextDeadline { return 0 }
        nextDeadline = nil
        var expired = 0
        for device in Array(queues.keys) {
            expired += settleExpired(of: device, now: now)
            for entry in queues[device] ?? [] {
                switch entry.state {
                case .enqueued: Self.lower(&nextDeadline, to: entry.expiryTime)
                case .invisible(let lockedUntil): Self.lower(&nextDeadline, to: lockedUntil)
                }
            }
        }
        sweepFeedback(now: now)
        return expired
    }

    /// The earliest time `expire(now:)` may have work, nil when nothing is pending.
    public var nextExpiryCheck: Timestamp? { nextDeadline }

    // MARK: private

    /// For one device: locks that ran out become enqueued (the device is ready again), then enqueued
    /// messages past their expiry leave with `Expired` feedback. Returns how many expired.
    @discardableResult
    private mutating func settleExpired(of device: DeviceID, now: Timestamp) -> Int {
        guard let queue = queues[device] else { return 0 }
        var kept: [CloudToDeviceEntry] = []
        kept.reserveCapacity(queue.count)
        var expired: [CloudToDeviceEntry] = []
        var unlocked = false
        for var entry in queue {
            var changed = false
            if case .invisible(let lockedUntil) = entry.state, lockedUntil <= now {
                entry.state = .enqueued
                unlocked = true
                changed = true
            }
            if entry.state == .enqueued, entry.expiryTime <= now {
                expired.append(entry)
                continue
            }
            if changed { effects.changes.append(.saveMessage(entry)) }
            kept.append(entry)
        }
        guard unlocked || !expired.isEmpty else { return 0 }
        queues[device] = kept.isEmpty ? nil : kept
        for entry in expired {
            effects.changes.append(.removeMessage(sequenceNumber: entry.sequenceNumber))
            if entry.message.ack?.wantsNegative == true { addFeedback(for: entry, .expired, now: now) }
        }
        if unlocked, kept.contains(where: { $0.state == .enqueued }) { markReady(device) }
        return expired.count
    }

    /// The index of `device`'s message locked under `token`, after settling expired locks and messages.
    private mutating func lockedIndex(_ device: DeviceID, _ token: String, now: Timestamp) throws(MessagingError) -> Int {
        settleExpired(of: device, now: now)
        guard let index = queues[device]?.firstIndex(where: { $0.lockToken == token }) else {
            throw MessagingError(.messageNotFound, "no cloud-to-device message of the device holds this lock token")
        }
        guard case .invisible = queues[device]![index].state else {
            throw MessagingError(.lockLost, "the lock of this cloud-to-device message expired")
        }
        return index
    }

    /// Removes the entry (recording the change) and drops the device's queue when it empties.
    private mutating func remove(_ device: DeviceID, at index: Int) -> CloudToDeviceEntry {
        let entry = queues[device]!.remove(at: index)
        if queues[device]!.isEmpty { queues[device] = nil }
        effects.changes.append(.removeMessage(sequenceNumber: entry.sequenceNumber))
        return entry
    }

    private mutating func markReady(_ device: DeviceID) {
        if readySet.insert(device).inserted { effects.readyDevices.append(device) }
    }

    /// Sets `deadline` to `time` when that is earlier (or when it is nil).
    static func lower(_ deadline: inout Timestamp?, to time: Timestamp) {
        if let current = deadline, current <= time { return }
        deadline = time
    }
}

extension CloudToDeviceQueue {
    /// What the queue's operations since the last `takeEffects()` require of its owner: store `changes`
    /// (in order, atomically), then tell the delivery loops about `readyDevices`.
    public struct Effects: Hashable, Sendable {
        /// Changes for the `CloudToDeviceStore`, in the order they happened.
        public var changes: [CloudToDeviceChange] = []
        /// Devices that have a message to deliver that they did not have before (after an enqueue, an
        /// abandon, or a lock that expired), each once, in the order they became ready.
        public var readyDevices: [DeviceID] = []

        public init(changes: [CloudToDeviceChange] = [], readyDevices: [DeviceID] = []) {
            self.changes = changes
            self.readyDevices = readyDevices
        }

        /// True when there is nothing to do.
        public var isEmpty: Bool { changes.isEmpty && readyDevices.isEmpty }
    }
}
