import DequeModule
import HubCore
import HubStorage
import Logging
import Synchronization

/// The hub's cloud-to-device messaging: the `CloudToDeviceQueue` state machine, its
/// `CloudToDeviceStore`, a clock, and the hooks the delivery loops need.
///
/// Every operation runs alone (a FIFO gate serializes them, so store writes happen in the order the
/// state changed) and returns only after its changes are durable. When the store fails, the operation
/// throws `.storage` and the service reloads its state from the store (at once, or before the next
/// operation if the store is still failing), so memory never runs ahead of disk: the failed operation
/// did not happen, and locks held at that moment are lost (their messages are delivered again).
///
/// Delivery loops register with `addReadyHandler`: the handler is called with a device id after an
/// enqueue, an abandon, or a lock that ran out left that device with a message to deliver. `run()`
/// sweeps expired locks and messages every `sweepInterval`; run it for the hub's lifetime (HubServer
/// wraps it in a `Service`).
public actor CloudToDeviceService {
    /// Settings of the service and its queues.
    public struct Configuration: Sendable, Hashable {
        /// The queues' limits.
        public var queue = CloudToDeviceQueue.Configuration()
        /// How often `run()` sweeps for expired locks, messages and feedback. Default 1 s: a lock that runs
        /// out is noticed within about a second.
        public var sweepInterval: Duration = .seconds(1)

        public init() {}
    }

    /// Called with a device that has a message ready to deliver. Runs on the service's executor while it
    /// holds its gate: do not block; hop to the delivery loop's own executor.
    public typealias ReadyHandler = @Sendable (DeviceID) -> Void

    /// Identifies a registered `ReadyHandler` for `removeReadyHandler`.
    public struct ReadyHandlerID: Hashable, Sendable {
        fileprivate let rawValue: Int
    }

    public let configuration: Configuration
    private let store: any CloudToDeviceStore
    private let clock: @Sendable () -> Timestamp
    private let makeToken: @Sendable () -> String
    private let logger: Logger
    /// Nil after a store failure until the next operation reloads it.
    private var queue: CloudToDeviceQueue?
    private var busy = false
    private var waiters = Deque<CheckedContinuation<Void, Never>>()
    private let handlers = Mutex(Handlers())

    private struct Handlers {
        var byID: [Int: ReadyHandler] = [:]
        var next = 0
    }

    /// Loads the queues from `store`. Messages that were locked when the hub stopped are enqueued again.
    ///
    /// - Parameters:
    ///   - clock: wall-clock time (expiry times survive restarts, so they are wall-clock times).
    ///   - makeToken: lock tokens and missing message ids; random UUIDs by default.
    public init(
        store: any CloudToDeviceStore, configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        makeToken: @escaping @Sendable () -> String = { RandomToken.uuid() },
        logger: Logger = Logger(label: "meridian.messaging.c2d")
    ) async throws(MessagingError) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.makeToken = makeToken
        self.logger = logger
        do {
            queue = CloudToDeviceQueue(configuration: configuration.queue, snapshot: try await store.load(), makeToken: makeToken)
        } catch {
            throw MessagingError(error)
        }
    }

    // MARK: ready handlers

    /// Registers `handler` to be told which devices have messages ready.
    @discardableResult
    public nonisolated func addReadyHandler(_ handler: @escaping ReadyHandler) -> ReadyHandlerID {
        handlers.withLock { h in
            defer { h.next += 1 }
            h.byID[h.next] = handler
            return ReadyHandlerID(rawValue: h.next)
        }
    }

    /// Unregisters a handler (nothing if it is not registered).
    public nonisolated func removeReadyHandler(_ id: ReadyHandlerID) {
        _ = handlers.withLock { $0.byID.removeValue(forKey: id.rawValue) }
    }

    // MARK: service side

    /// Enqueues `message` for `device` (see `CloudToDeviceQueue.enqueue`): 403004 when the queue is
    /// full, 413 when too large, 400004 for a bad expiry or undeliverable properties, `.storage` when
    /// it could not be stored. The caller checks that the device exists (and passes its generation id
    /// for feedback).
    @discardableResult
    public func enqueue(_ message: DeviceMessage, to device: DeviceID, deviceGenerationID: String? = nil) async throws(MessagingError)
        -> CloudToDeviceEntry
    {
        try await perform { (q, now) throws(MessagingError) in try q.enqueue(message, to: device, deviceGenerationID: deviceGenerationID, now: now) }
    }

    /// Removes every message of `device` (`DELETE /devices/{id}/commands`, or the device was deleted);
    /// returns how many.
    @discardableResult
    public func purge(_ device: DeviceID) async throws(MessagingError) -> Int {
        try await perform { q, now in q.purge(device, now: now) }
    }

    /// Messages waiting for `device` (enqueued or locked).
    public func pendingCount(_ device: DeviceID) -> Int { queue?.pendingCount(device) ?? 0 }

    /// Devices with at least one message waiting (for delivery loops after a restart).
    public func devicesWithMessages() -> [DeviceID] { queue?.devicesWithMessages ?? [] }

    /// The next batch of feedback records, locked for the service; nil when none is waiting.
    public func receiveFeedback(limit: Int? = nil) async throws(MessagingError) -> FeedbackBatch? {
        try await perform { q, now in q.receiveFeedback(now: now, limit: limit) }
    }

    /// Deletes a received feedback batch: 412002 when its lock ran out, 404 for an unknown token.
    public func completeFeedback(lockToken: String) async throws(MessagingError) {
        try await perform { (q, now) throws(MessagingError) in try q.completeFeedback(lockToken: lockToken, now: now) }
    }

    /// Gives a received feedback batch back: errors as for `completeFeedback`.
    public func abandonFeedback(lockToken: String) async throws(MessagingError) {
        try await perform { (q, now) throws(MessagingError) in try q.abandonFeedback(lockToken: lockToken, now: now) }
    }

    // MARK: device side

    /// Locks and returns `device`'s next message (HTTPS `GET …/messages/deviceBound`), or nil.
    public func nextForDelivery(_ device: DeviceID) async throws(MessagingError) -> CloudToDeviceDelivery? {
        try await perform { q, now in q.nextForDelivery(device, now: now) }
    }

    /// Locks and returns up to `limit` of `device`'s next messages (MQTT, with `limit` = free in-flight
    /// slots). Complete each on its PUBACK.
    public func deliver(_ device: DeviceID, limit: Int) async throws(MessagingError) -> [CloudToDeviceDelivery] {
        try await perform { q, now in q.deliver(device, limit: limit, now: now) }
    }

    /// Completes a delivery (MQTT PUBACK, HTTPS `DELETE …/{etag}`): 412002 when its lock ran out, 404
    /// for an unknown token.
    public func complete(_ device: DeviceID, lockToken: String) async throws(MessagingError) {
        try await perform { (q, now) throws(MessagingError) in try q.complete(device, lockToken: lockToken, now: now) }
    }

    /// Abandons a delivery (HTTPS `POST …/{etag}/abandon`): errors as for `complete`.
    public func abandon(_ device: DeviceID, lockToken: String) async throws(MessagingError) {
        try await perform { (q, now) throws(MessagingError) in try q.abandon(device, lockToken: lockToken, now: now) }
    }

    /// Rejects a delivery (HTTPS `DELETE …/{etag}?reject`): errors as for `complete`.
    public func reject(_ device: DeviceID, lockToken: String) async throws(MessagingError) {
        try await perform { (q, now) throws(MessagingError) in try q.reject(device, lockToken: lockToken, now: now) }
    }

    // MARK: time

    /// Sweeps once: expired locks return their messages (ready handlers are called), expired messages
    /// and feedback go. Returns how many messages expired.
    @discardableResult
    public func expire() async throws(MessagingError) -> Int {
        try await perform { q, now in q.expire(now: now) }
    }

    /// Sweeps every `sweepInterval` until the task is cancelled; store errors are logged and retried at
    /// the next sweep.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.sweepInterval)
            } catch {
                return
            }
            do {
                try await expire()
            } catch {
                logger.warning("cloud-to-device sweep failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: private

    /// Runs `body` on the queue alone, persists what it changed (also when it threw after changing
    /// something, such as expiring messages before refusing an enqueue), then calls the ready handlers.
    private func perform<T: Sendable>(
        _ body: (inout CloudToDeviceQueue, Timestamp) throws(MessagingError) -> T
    ) async throws(MessagingError) -> T {
        await acquire()
        defer { release() }
        var reloaded: [DeviceID] = []
        if queue == nil {
            do {
                reloaded = try await reload()
            } catch {
                throw MessagingError(error)
            }
        }
        let outcome: Result<T, MessagingError>
        do {
            outcome = .success(try body(&queue!, clock()))
        } catch {
            outcome = .failure(error)
        }
        let effects = queue!.takeEffects()
        if !effects.changes.isEmpty {
            do {
                try await store.apply(effects.changes)
            } catch {
                logger.error("cloud-to-device store failed; reloading", metadata: ["error": "\(error)"])
                queue = nil
                reloaded = (try? await reload()) ?? []
                notifyReady(reloaded)
                throw MessagingError(error)
            }
        }
        notifyReady(reloaded + effects.readyDevices)
        return try outcome.get()
    }

    /// Replaces the queue with the store's contents; returns the devices with messages (all ready again,
    /// since their locks are gone).
    private func reload() async throws(StorageError) -> [DeviceID] {
        let fresh = CloudToDeviceQueue(configuration: configuration.queue, snapshot: try await store.load(), makeToken: makeToken)
        queue = fresh
        logger.info("reloaded cloud-to-device queues from the store")
        return fresh.devicesWithMessages
    }

    private func notifyReady(_ devices: [DeviceID]) {
        guard !devices.isEmpty else { return }
        let current = handlers.withLock { Array($0.byID.values) }
        for device in devices {
            for handler in current { handler(device) }
        }
    }

    /// Waits until no other operation runs (FIFO).
    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Lets the next waiting operation run.
    private func release() {
        if let next = waiters.popFirst() {
            next.resume()
        } else {
            busy = false
        }
    }
}
