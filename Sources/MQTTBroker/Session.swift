import HubCore
import DequeModule
import MQTTCodec
import NIOCore
import Synchronization

/// A session (spec §4.1): a client's subscriptions and undelivered messages, which may outlive its
/// connection. Shared between event loops: publishers on any loop append to its mailbox; its
/// connection's loop drains it. All state sits behind one mutex with short critical sections.
final class Session: Sendable {
    let clientID: String
    let state: Mutex<State>
    /// Lock-free read of "a connection is attached", for shared-subscription member selection.
    let online = Atomic<Bool>(false)

    init(clientID: String, protocolVersion: MQTTProtocolVersion, expiryInterval: UInt32) {
        self.clientID = clientID
        self.state = Mutex(State(protocolVersion: protocolVersion, expiryInterval: expiryInterval))
    }

    /// A subscription held by the session.
    struct Subscription: Sendable {
        var filter: MQTTTopicFilter
        var options: MQTTSubscriptionOptions
        var identifier: UInt32?
    }

    /// A Will waiting for its delay to pass. [MQTT-3.1.3-9]
    struct PendingWill: Sendable {
        var message: ApplicationMessage
        var task: Scheduled<Void>
    }

    struct State: Sendable {
        var protocolVersion: MQTTProtocolVersion
        /// Seconds the session lives after its connection closes; 0 ends it with the connection.
        var expiryInterval: UInt32
        /// By the filter as sent (compared byte for byte).
        var subscriptions: [ByteString: Subscription] = [:]
        /// Messages waiting to be sent, oldest first.
        var mailbox: Deque<OutboundMessage> = []
        var mailboxBytes = 0
        /// The attached connection, if any.
        var owner: ConnectionHandle?
        /// A drain task is queued on the owner's event loop.
        var drainScheduled = false
        /// The owner stopped draining (in-flight window full or socket not writable) and will resume
        /// by itself; enqueuers need not schedule drains meanwhile.
        var drainBlocked = false
        /// In-flight state while no connection holds it.
        var parked = SessionOutbound()
        /// Completed when the previous owner has parked its in-flight state (session takeover).
        var handoff: EventLoopFuture<Void>?
        /// Set when the session ended (clean start, expiry); nothing is queued any more.
        var ended = false
        /// Publishers that stopped reading because this mailbox was over its high-water mark.
        var waiters: [UInt64: ConnectionHandle] = [:]
        var pendingWill: PendingWill?
        var expiryTask: Scheduled<Void>?
        /// Wall-clock ms of the last connect/disconnect (persistence, expiry across restarts).
        var lastSeenMillis: Int64 = WallClock.nowMillis()
        /// Changed since the last persistence flush.
        var dirty = true
    }

    /// Outcome of `enqueue`.
    struct EnqueueOutcome {
        /// The message was queued.
        var accepted: Bool
        /// Messages lost to a full queue: this one, or an older QoS 0 evicted to make room.
        var dropped: Int
        /// The mailbox is at or past its high-water mark: the publisher should pause reading.
        var overHighWater: Bool
        /// When set, a drain must be scheduled on this connection's event loop.
        var schedule: ConnectionHandle?

        static let discarded = EnqueueOutcome(accepted: false, dropped: 0, overHighWater: false, schedule: nil)
    }

    /// Queue limits, from the broker configuration.
    struct Limits: Sendable {
        /// Count limit. Offline: hard. Online: QoS 0 beyond it is dropped, QoS 1/2 is still accepted
        /// (publishers were paused well before it, so the overshoot is bounded by one message each).
        var maximumMessages: Int
        /// Byte limit (payload + topic): hard for every message.
        var maximumBytes: Int
        /// Publishers are paused from here, half the limit, so that each active publisher can still land
        /// the message it is processing without pushing QoS 0 over the limit.
        var highWaterMessages: Int { max(1, maximumMessages / 2) }
        /// Paused publishers resume once the mailbox is back to a quarter of the limit.
        var lowWaterMessages: Int { maximumMessages / 4 }
    }

    /// Appends a message for delivery.
    ///
    /// Not queued and not a loss: QoS 0 to an offline session (as Mosquitto's default), or a session
    /// that has ended. When full, queued QoS 0 messages are evicted first to make room for QoS 1/2.
    func enqueue(_ message: OutboundMessage, limits: Limits, waiter: ConnectionHandle? = nil) -> EnqueueOutcome {
        var message = message
        return state.withLock { s in
            if s.ended { return .discarded }
            let online = s.owner != nil
            if !online {
                if message.qos == .atMostOnce { return .discarded }
                message.message.compactPayload()
            }
            let size = message.message.queuedSize
            let countFull = s.mailbox.count >= limits.maximumMessages
            let bytesFull = s.mailboxBytes + size > limits.maximumBytes
            var dropped = 0
            if bytesFull || countFull && (!online || message.qos == .atMostOnce) {
                guard message.qos != .atMostOnce,
                    let i = s.mailbox.firstIndex(where: { $0.qos == .atMostOnce })
                else {
                    if online, let waiter { s.waiters[waiter.id] = waiter }
                    return EnqueueOutcome(accepted: false, dropped: 1, overHighWater: online, schedule: nil)
                }
                s.mailboxBytes -= s.mailbox[i].message.queuedSize
                s.mailbox.remove(at: i)
                dropped = 1
            }
            s.mailbox.append(message)
            s.mailboxBytes += size
            if !online {
                s.dirty = true
                return EnqueueOutcome(accepted: true, dropped: dropped, overHighWater: false, schedule: nil)
            }
            var schedule: ConnectionHandle?
            if !s.drainScheduled && !s.drainBlocked {
                s.drainScheduled = true
                schedule = s.owner
            }
            let high = s.mailbox.count >= limits.highWaterMessages || s.mailboxBytes * 2 >= limits.maximumBytes
            // Register the publisher under the same lock the drain checks, so its wake-up cannot be missed.
            if high, let waiter { s.waiters[waiter.id] = waiter }
            return EnqueueOutcome(accepted: true, dropped: dropped, overHighWater: high, schedule: schedule)
        }
    }
}

extension Session {
    /// What a drain took from the mailbox.
    struct DrainBatch {
        var messages: [OutboundMessage] = []
        /// Publishers to wake because the mailbox fell below its low-water mark.
        var wake: [ConnectionHandle] = []
        /// The mailbox still holds messages that the budget (not the window) left behind.
        var more = false
    }

    /// Takes messages for the owner `handle` to send: at most `budget`, and QoS 1/2 ones only while
    /// `window` free in-flight slots remain (order is kept: a QoS 1/2 head blocks what follows).
    /// Returns nil if `handle` is not the owner.
    func takeForDelivery(owner handle: ConnectionHandle, window: Int, budget: Int, limits: Limits, into batch: inout DrainBatch) -> Bool {
        state.withLock { s in
            guard let owner = s.owner, owner === handle else { return false }
            s.drainScheduled = false
            s.drainBlocked = false
            var free = window
            var taken = 0
            while taken < budget, let first = s.mailbox.first {
                if first.qos != .atMostOnce {
                    if free == 0 {
                        s.drainBlocked = true
                        break
                    }
                    free -= 1
                }
                s.mailbox.removeFirst()
                s.mailboxBytes -= first.message.queuedSize
                batch.messages.append(first)
                taken += 1
            }
            if !s.waiters.isEmpty && s.mailbox.count <= limits.lowWaterMessages && s.mailboxBytes * 4 <= limits.maximumBytes {
                batch.wake = Array(s.waiters.values)
                s.waiters.removeAll()
            }
            if !s.drainBlocked && !s.mailbox.isEmpty {
                batch.more = true
                s.drainScheduled = true
            }
            return true
        }
    }

    /// The owner could not go on (socket not writable): enqueuers need not schedule drains until it
    /// resumes by itself.
    func markDrainBlocked(owner handle: ConnectionHandle) {
        state.withLock { s in
            if s.owner === handle { s.drainBlocked = true }
        }
    }
}
