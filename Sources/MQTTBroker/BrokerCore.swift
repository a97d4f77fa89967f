import HubCore
import Logging
import MQTTCodec
import NIOCore
import Synchronization

/// The broker's shared state and the operations connections perform on it: attach/detach sessions,
/// route messages, manage subscriptions, retained messages, wills and session expiry.
///
/// Locks and their order (a lock may only be taken while holding locks to its left):
/// `sessions` → `tree` → a session's `state`; `retained` and `pending` are leaves.
final class BrokerCore: Sendable {
    let configuration: BrokerConfiguration
    let limits: ConnectionStateMachine.Limits
    let queueLimits: Session.Limits
    let decoderConfiguration: MQTTDecoderConfiguration
    let authenticator: any BrokerAuthenticator
    let persistence: any BrokerPersistence
    /// Told about connects and disconnects.
    let observer: (any BrokerObserver)?
    /// Decides at accept time whether a client address may connect at all (the hub's IP filter).
    let admission: (@Sendable (SocketAddress?) -> Bool)?
    /// Hub-wide CONNECT rate limit, if configured.
    private let connectBucket: Mutex<TokenBucket?>
    let logger: Logger
    let statistics = BrokerStatistics()
    let group: any EventLoopGroup

    /// Sessions by client identifier (compared byte for byte).
    let sessions = Mutex<[ByteString: Session]>([:])
    let tree = Mutex(SubscriptionTree())
    let retained = Mutex(RetainedStore())
    let connections = Mutex<[UInt64: ConnectionHandle]>([:])
    let pending = Mutex(PendingPersistence())
    let shuttingDown = Atomic<Bool>(false)
    private let clientIDCounter = Atomic<UInt64>(0)
    private let instanceTag: String

    /// Persistence work not tied to a live session object.
    struct PendingPersistence {
        var deletedSessions: Set<ByteString> = []
        var retainedTopics: Set<ByteString> = []
        /// Client IDs of sessions that exist in persistence (so ending them must delete them).
        var persistedSessions: Set<ByteString> = []
    }

    init(
        configuration: BrokerConfiguration, persistence: any BrokerPersistence, authenticator: any BrokerAuthenticator,
        group: any EventLoopGroup, logger: Logger, observer: (any BrokerObserver)? = nil,
        admission: (@Sendable (SocketAddress?) -> Bool)? = nil
    ) {
        self.observer = observer
        self.admission = admission
        let rate = Double(configuration.connectRatePerSecond)
        self.connectBucket = Mutex(rate > 0 ? TokenBucket(ratePerSecond: rate, burst: rate * 5) : nil)
        self.configuration = configuration
        self.limits = ConnectionStateMachine.Limits(configuration)
        self.queueLimits = Session.Limits(maximumMessages: max(1, configuration.maximumQueuedMessages), maximumBytes: max(1024, configuration.maximumQueuedBytes))
        self.decoderConfiguration = MQTTDecoderConfiguration(
            maximumPacketSize: configuration.maximumPacketSize, maximumUserProperties: configuration.maximumUserProperties)
        self.authenticator = authenticator
        self.persistence = persistence
        self.group = group
        self.logger = logger
        var rng = SystemRandomNumberGenerator()
        self.instanceTag = String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 36)
    }

    /// A fresh client identifier for clients that send an empty one. [MQTT-3.1.3-6]
    func assignClientID() -> String {
        "auto-\(instanceTag)-\(clientIDCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    // MARK: - Connections

    /// Counts a new network connection; false when over the connection limit.
    func connectionOpened(_ handle: ConnectionHandle) -> Bool {
        let open = statistics.connectionsOpen.wrappingAdd(1, ordering: .relaxed).newValue
        connections.withLock { $0[handle.id] = handle }
        return open <= configuration.maximumConnections && !shuttingDown.load(ordering: .relaxed)
    }

    /// Takes a token from the hub-wide CONNECT budget; false when the rate is exceeded.
    func admitConnect(now: NIODeadline) -> Bool {
        connectBucket.withLock { bucket in
            guard bucket != nil else { return true }
            return bucket!.take(nowNanos: now.uptimeNanoseconds) == nil
        }
    }

    func connectionClosed(_ handle: ConnectionHandle) {
        statistics.connectionsOpen.wrappingSubtract(1, ordering: .relaxed)
        connections.withLock { $0[handle.id] = nil }
    }

    // MARK: - Sessions

    struct AttachResult {
        let session: Session
        let sessionPresent: Bool
        /// Completed when the previous owner has parked its in-flight state; nil when there was none.
        let previousRelease: EventLoopFuture<Void>?
    }

    /// Binds a newly authenticated connection to its session, creating, resuming or replacing it, and
    /// kicks out a connection that held the same client identifier (0x8E). [MQTT-3.1.4-3]
    ///
    /// `release` is the new owner's promise to park its state when it lets go.
    func attach(_ handle: ConnectionHandle, _ params: ConnectionStateMachine.Session, release: EventLoopFuture<Void>) -> AttachResult {
        var kicked: ConnectionHandle?
        var ended: Session?
        var endedWill: ApplicationMessage?
        let result: AttachResult = sessions.withLock { dict in
            if let existing = dict[ByteString(params.clientID)] {
                if !params.cleanStart {
                    var prev: EventLoopFuture<Void>?
                    let resumed = existing.state.withLock { s -> Bool in
                        if s.ended { return false }
                        kicked = s.owner
                        s.owner = handle
                        s.drainScheduled = false
                        s.drainBlocked = false
                        // A reconnect before the Will Delay passes cancels the Will. [MQTT-3.1.3-9]
                        s.pendingWill?.task.cancel()
                        s.pendingWill = nil
                        s.expiryTask?.cancel()
                        s.expiryTask = nil
                        s.expiryInterval = params.sessionExpiryInterval
                        s.protocolVersion = params.version
                        s.lastSeenMillis = WallClock.nowMillis()
                        s.dirty = true
                        prev = s.handoff
                        s.handoff = release
                        return true
                    }
                    if resumed {
                        existing.online.store(true, ordering: .relaxed)
                        return AttachResult(session: existing, sessionPresent: true, previousRelease: prev)
                    }
                }
                // Clean start (or a session that just ended): the old session ends now.
                dict[ByteString(params.clientID)] = nil
                existing.state.withLock { s in
                    kicked = s.owner
                    endedWill = s.pendingWill?.message
                    s.pendingWill?.task.cancel()
                    s.pendingWill = nil
                    s.expiryTask?.cancel()
                    s.expiryTask = nil
                    s.ended = true
                }
                existing.online.store(false, ordering: .relaxed)
                ended = existing
            }
            let session = Session(clientID: params.clientID, protocolVersion: params.version, expiryInterval: params.sessionExpiryInterval)
            session.state.withLock { s in
                s.owner = handle
                s.handoff = release
            }
            session.online.store(true, ordering: .relaxed)
            dict[ByteString(params.clientID)] = session
            return AttachResult(session: session, sessionPresent: false, previousRelease: nil)
        }
        if let ended { sessionEnded(ended) }
        if let endedWill { _ = route(endedWill, publisher: nil) }
        kicked?.execute { $0.kick(.sessionTakenOver) }
        return result
    }

    /// Why a connection let go of its session.
    enum DetachReason: Sendable {
        /// DISCONNECT with reason 0x00: the Will is discarded.
        case normalDisconnect
        /// 5.0 DISCONNECT 0x04: publish the Will.
        case disconnectWithWill
        /// Network loss, protocol error, keep-alive timeout, takeover: publish the Will.
        case abnormal
        /// Broker shutdown: the session is kept for the restart and no Will is published.
        case shutdown
    }

    /// Releases `session` from `handle`: parks its in-flight state, starts the expiry clock or ends the
    /// session, and publishes or schedules the Will. Returns once the state is parked.
    func detach(
        _ handle: ConnectionHandle, session: Session, outbound: SessionOutbound?, params: ConnectionStateMachine.Session,
        reason: DetachReason
    ) {
        var endNow = false
        var stillOwner = false
        var waiters: [ConnectionHandle] = []
        sessions.withLock { dict in
            session.state.withLock { s in
                if let outbound, !s.ended { s.parked = outbound }
                guard s.owner === handle else { return }
                stillOwner = true
                s.owner = nil
                // Nobody drains an offline mailbox: publishers paused on it must not wait for that.
                waiters = Array(s.waiters.values)
                s.waiters.removeAll()
                s.drainScheduled = false
                s.drainBlocked = false
                s.lastSeenMillis = WallClock.nowMillis()
                s.dirty = true
                s.expiryInterval = params.sessionExpiryInterval
                // Undelivered QoS 0 messages are not kept for an offline session.
                if s.mailbox.contains(where: { $0.qos == .atMostOnce }) {
                    s.mailbox.removeAll { $0.qos == .atMostOnce }
                    s.mailboxBytes = s.mailbox.reduce(0) { $0 + $1.message.queuedSize }
                }
                if params.sessionExpiryInterval == 0 && reason != .shutdown {
                    endNow = true
                    s.ended = true
                    if dict[ByteString(session.clientID)] === session { dict[ByteString(session.clientID)] = nil }
                }
            }
            if stillOwner { session.online.store(false, ordering: .relaxed) }
        }
        if endNow { sessionEnded(session) }
        for w in waiters { w.execute { $0.resumeReading() } }

        // The Will. [MQTT-3.1.2-8], [MQTT-3.1.3-9], 5.0 §3.1.2.5
        guard let will = params.will, reason == .abnormal || reason == .disconnectWithWill else {
            if stillOwner && !endNow && reason != .shutdown { scheduleExpiry(session, after: params.sessionExpiryInterval) }
            return
        }
        let message = willMessage(will, clientID: params.clientID)
        let delay = params.version == .v5 ? min(will.properties.willDelayInterval ?? 0, params.sessionExpiryInterval) : 0
        if !stillOwner {
            // Taken over: the session lives on with the new connection, which cancels a delayed Will.
            let sessionEndedByTakeover = session.state.withLock { $0.ended }
            if delay == 0 || sessionEndedByTakeover { _ = route(message, publisher: nil) }
            return
        }
        if endNow || delay == 0 {
            _ = route(message, publisher: nil)
        } else {
            let task = group.next().scheduleTask(in: .seconds(Int64(delay))) { [self] in
                let due = session.state.withLock { s -> ApplicationMessage? in
                    let m = s.pendingWill?.message
                    s.pendingWill = nil
                    return m
                }
                if let due { _ = route(due, publisher: nil) }
            }
            session.state.withLock { s in
                if s.owner == nil && !s.ended { s.pendingWill = Session.PendingWill(message: message, task: task) } else { task.cancel() }
            }
        }
        if !endNow { scheduleExpiry(session, after: params.sessionExpiryInterval) }
    }

    private func willMessage(_ will: MQTTWill, clientID: String) -> ApplicationMessage {
        var props = will.properties
        props.willDelayInterval = nil
        var expiresAt: NIODeadline?
        if let seconds = props.messageExpiryInterval {
            expiresAt = group.any().now + .seconds(Int64(seconds))
            props.messageExpiryInterval = nil
        }
        var message = ApplicationMessage(
            topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain, properties: props,
            expiresAt: expiresAt, originClientID: clientID)
        message.compactPayload()  // it may wait out a Will Delay: do not pin the CONNECT's read buffer
        return message
    }

    /// Starts the session's expiry clock (no-op for 0, which ends at disconnect, and for "never").
    func scheduleExpiry(_ session: Session, after seconds: UInt32) {
        guard seconds > 0, seconds != UInt32.max else { return }
        let task = group.next().scheduleTask(in: .seconds(Int64(seconds))) { [self] in
            expire(session)
        }
        session.state.withLock { s in
            s.expiryTask?.cancel()
            if s.owner == nil && !s.ended { s.expiryTask = task } else { task.cancel() }
        }
    }

    /// The session's expiry interval passed while it was offline: end it (and publish a pending Will).
    private func expire(_ session: Session) {
        var will: ApplicationMessage?
        let expired: Bool = sessions.withLock { dict in
            session.state.withLock { s in
                guard s.owner == nil, !s.ended else { return false }
                s.ended = true
                will = s.pendingWill?.message
                s.pendingWill?.task.cancel()
                s.pendingWill = nil
                s.expiryTask = nil
                if dict[ByteString(session.clientID)] === session { dict[ByteString(session.clientID)] = nil }
                return true
            }
        }
        guard expired else { return }
        sessionEnded(session)
        if let will { _ = route(will, publisher: nil) }
    }

    /// Cleans up after a session ended: subscriptions out of the tree, persisted copy deleted.
    private func sessionEnded(_ session: Session) {
        let (subs, waiters) = session.state.withLock { s -> ([Session.Subscription], [ConnectionHandle]) in
            let subs = Array(s.subscriptions.values)
            let waiters = Array(s.waiters.values)
            s.subscriptions.removeAll()
            s.mailbox.removeAll()
            s.mailboxBytes = 0
            s.parked = SessionOutbound()
            s.waiters.removeAll()
            return (subs, waiters)
        }
        for w in waiters { w.execute { $0.resumeReading() } }
        if !subs.isEmpty {
            tree.withLock { t in
                for sub in subs { t.remove(sub.filter, session: session) }
            }
        }
        pending.withLock { p in
            if p.persistedSessions.remove(ByteString(session.clientID)) != nil { p.deletedSessions.insert(ByteString(session.clientID)) }
        }
    }

    // MARK: - Routing

    /// Delivers `message` to every matching subscription and stores it if retained.
    /// Returns true when a subscriber's queue is over its high-water mark and `publisher` (registered as
    /// a waiter) should stop reading until woken.
    func route(
        _ message: ApplicationMessage, publisher: ConnectionHandle?, decorate: ((inout ApplicationMessage) -> Void)? = nil
    ) -> Bool {
        var matches: [SubscriptionMatch] = []
        tree.withLock { $0.match(message.topic, into: &matches, isOnline: { $0.online.load(ordering: .relaxed) }) }
        var message = message
        var decorate = decorate
        func finish() {
            decorate?(&message)
            decorate = nil
        }
        var pause = false
        var dropped = 0
        for m in matches {
            if m.noLocal, let origin = message.originClientID, origin.bytesEqual(m.session.clientID) { continue }  // [MQTT-3.8.3-3]
            finish()
            let out = OutboundMessage(
                message: message, qos: min(message.qos, m.qos), retain: m.retainAsPublished && message.retain,
                subscriptionIdentifiers: m.identifiers)
            let outcome = m.session.enqueue(out, limits: queueLimits, waiter: publisher)
            dropped += outcome.dropped
            if outcome.overHighWater && publisher != nil { pause = true }
            outcome.schedule?.scheduleDrain()
        }
        if dropped > 0 { statistics.messagesDropped.wrappingAdd(dropped, ordering: .relaxed) }
        if message.retain {
            finish()
            storeRetained(message)
        }
        return pause
    }

    /// A retained PUBLISH replaces the topic's retained message; an empty payload clears it. [MQTT-3.3.1-5/6/7]
    private func storeRetained(_ message: ApplicationMessage) {
        guard configuration.retainAvailable else { return }
        var stored = message
        stored.compactPayload()
        stored.retain = true
        let limit = configuration.maximumRetainedMessages
        let ok = retained.withLock { r in
            r.set(message.topic, message.payload.readableBytes == 0 ? nil : stored, limit: limit)
        }
        if ok {
            pending.withLock { _ = $0.retainedTopics.insert(ByteString(message.topic)) }
        } else {
            statistics.messagesDropped.wrappingAdd(1, ordering: .relaxed)
        }
    }

    // MARK: - Subscriptions

    /// Applies accepted subscriptions and returns the final reason codes (the session's subscription cap
    /// turns extra ones into 0x97) plus the retained messages to send, per Retain Handling.
    func subscribe(
        _ session: Session, requests: [ConnectionStateMachine.SubscriptionRequest], identifier: UInt32?
    ) -> (codes: [MQTTReasonCode], retained: [OutboundMessage]) {
        var codes: [MQTTReasonCode] = []
        var retainedOut: [OutboundMessage] = []
        let cap = configuration.maximumSubscriptionsPerSession
        for request in requests {
            guard let filter = request.filter else {
                codes.append(request.reasonCode)
                continue
            }
            let sub = Session.Subscription(filter: filter, options: request.options, identifier: identifier)
            let isNew: Bool? = session.state.withLock { s in
                if s.ended { return nil }
                let existed = s.subscriptions[ByteString(filter.raw)] != nil
                if !existed && s.subscriptions.count >= cap { return nil }
                s.subscriptions[ByteString(filter.raw)] = sub
                s.dirty = true
                return !existed
            }
            guard let isNew else {
                codes.append(.quotaExceeded)
                continue
            }
            tree.withLock { _ = $0.insert(filter, subscriber: Subscriber(session: session, options: request.options, identifier: identifier)) }
            codes.append(request.reasonCode)
            // Retained messages: not for shared subscriptions; Retain Handling 1 only for new ones. [MQTT-3.8.4-4]
            guard filter.shareName == nil, configuration.retainAvailable else { continue }
            switch request.options.retainHandling {
            case .doNotSend: continue
            case .sendOnSubscribeIfNew where !isNew: continue
            default: break
            }
            let now = group.any().now
            let messages = retained.withLock { $0.matching(filter.filter) }
            for m in messages where !m.isExpired(at: now) {
                retainedOut.append(OutboundMessage(
                    message: m, qos: min(m.qos, request.options.qos), retain: true,
                    subscriptionIdentifiers: identifier.map { [$0] } ?? []))
            }
        }
        return (codes, retainedOut)
    }

    /// Removes subscriptions; 0x00 for each that existed, 0x11 No subscription existed otherwise.
    func unsubscribe(_ session: Session, filters: [String]) -> [MQTTReasonCode] {
        filters.map { raw in
            let removed = session.state.withLock { s -> Session.Subscription? in
                let sub = s.subscriptions.removeValue(forKey: ByteString(raw))
                if sub != nil { s.dirty = true }
                return sub
            }
            guard let removed else { return .noSubscriptionExisted }
            tree.withLock { _ = $0.remove(removed.filter, session: session) }
            return .success
        }
    }
}
