import HubCore
import MQTTCodec
import NIOCore

/// Write-behind persistence: snapshots of persistent sessions and retained messages, and restoring
/// them at start-up.
extension BrokerCore {
    // MARK: - Snapshots

    /// A session's persistent form. Called with the session's lock held (`state` is its contents).
    func persisted(_ session: Session, state s: Session.State, outbound: SessionOutbound) -> PersistedSession {
        let nowWall = WallClock.nowMillis()
        let now = group.any().now
        var messages: [PersistedMessage] = []
        messages.reserveCapacity(outbound.inflightCount + s.mailbox.count)
        for (id, entry) in outbound.inflightInOrder {
            let state: PersistedMessage.State
            switch entry.stage {
            case .awaitingPubAck: state = .awaitingPubAck
            case .awaitingPubRec: state = .awaitingPubRec
            case .awaitingPubComp: state = .awaitingPubComp
            }
            messages.append(persistedMessage(entry.message, packetID: id, state: state, now: now, nowWall: nowWall))
        }
        for m in s.mailbox where m.qos != .atMostOnce {
            messages.append(persistedMessage(m, packetID: nil, state: .queued, now: now, nowWall: nowWall))
        }
        pending.withLock { _ = $0.persistedSessions.insert(ByteString(session.clientID)) }
        return PersistedSession(
            clientID: session.clientID, protocolVersion: s.protocolVersion, expiryInterval: s.expiryInterval,
            lastSeenMillis: s.owner == nil ? s.lastSeenMillis : nowWall,
            subscriptions: s.subscriptions.values.sorted { $0.filter.raw < $1.filter.raw }.map {
                PersistedSubscription(topicFilter: $0.filter.raw, options: $0.options, subscriptionIdentifier: $0.identifier)
            },
            messages: messages,
            pendingInboundQoS2: outbound.inboundQoS2.sorted())
    }

    /// Message Expiry is stored as an interval from `receivedAtMillis`, so it keeps running across a restart.
    private func persistedMessage(_ m: OutboundMessage, packetID: UInt16?, state: PersistedMessage.State, now: NIODeadline, nowWall: Int64) -> PersistedMessage {
        var props = m.message.properties
        if let remaining = m.message.remainingExpirySeconds(at: now) {
            let elapsed = max(0, nowWall - m.message.receivedAtMillis) / 1000
            props.messageExpiryInterval = UInt32(clamping: Int64(remaining) + elapsed)
        }
        if !m.subscriptionIdentifiers.isEmpty { props.subscriptionIdentifiers = m.subscriptionIdentifiers }
        let publish = MQTTPublish(
            topic: m.message.topic, payload: m.message.payload, qos: m.qos, retain: m.retain, dup: false,
            packetID: packetID, properties: props)
        return PersistedMessage(publish: publish, state: state, receivedAtMillis: m.message.receivedAtMillis)
    }

    /// Turns a stored PUBLISH back into a routed message; nil when it expired meanwhile.
    private func restoredMessage(_ p: MQTTPublish, receivedAtMillis: Int64, nowWall: Int64) -> (message: ApplicationMessage, subscriptionIDs: [UInt32])? {
        var props = p.properties
        var expiresAt: NIODeadline?
        if let interval = props.messageExpiryInterval {
            let left = Int64(interval) * 1000 - (nowWall - receivedAtMillis)
            if left <= 0 { return nil }
            expiresAt = group.any().now + .milliseconds(left)
            props.messageExpiryInterval = nil
        }
        let ids = props.subscriptionIdentifiers
        props.subscriptionIdentifiers = []
        let message = ApplicationMessage(
            topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, properties: props,
            expiresAt: expiresAt, receivedAtMillis: receivedAtMillis)
        return (message, ids)
    }

    // MARK: - Restore

    /// Rebuilds sessions, subscriptions and retained messages from persistence. Expired sessions and
    /// messages are dropped (and deleted at the next flush).
    func restore(_ stored: PersistedBrokerState) {
        let nowWall = WallClock.nowMillis()
        var expiredSessions: [ByteString] = []
        var expiredRetained: [ByteString] = []
        for ps in stored.sessions {
            let elapsed = max(0, nowWall - ps.lastSeenMillis) / 1000
            if ps.expiryInterval != UInt32.max && elapsed >= Int64(ps.expiryInterval) {
                expiredSessions.append(ByteString(ps.clientID))
                continue
            }
            let session = Session(clientID: ps.clientID, protocolVersion: ps.protocolVersion, expiryInterval: ps.expiryInterval)
            var inflight: [(id: UInt16, message: OutboundMessage, stage: SessionOutbound.Stage)] = []
            var queued: [OutboundMessage] = []
            for pm in ps.messages {
                guard let (message, ids) = restoredMessage(pm.publish, receivedAtMillis: pm.receivedAtMillis, nowWall: nowWall) else { continue }
                let out = OutboundMessage(message: message, qos: pm.publish.qos, retain: pm.publish.retain, subscriptionIdentifiers: ids)
                switch pm.state {
                case .queued: queued.append(out)
                case .awaitingPubAck: if let id = pm.publish.packetID { inflight.append((id, out, .awaitingPubAck)) }
                case .awaitingPubRec: if let id = pm.publish.packetID { inflight.append((id, out, .awaitingPubRec)) }
                case .awaitingPubComp: if let id = pm.publish.packetID { inflight.append((id, out, .awaitingPubComp)) }
                }
            }
            var subscriptions: [Session.Subscription] = []
            for sub in ps.subscriptions {
                guard let filter = try? MQTTTopic.parseFilter(sub.topicFilter, maximumLevels: configuration.maximumTopicLevels) else { continue }
                subscriptions.append(Session.Subscription(filter: filter, options: sub.options, identifier: sub.subscriptionIdentifier))
            }
            session.state.withLock { s in
                s.parked = SessionOutbound(restoring: inflight, inboundQoS2: ps.pendingInboundQoS2)
                for m in queued {
                    s.mailbox.append(m)
                    s.mailboxBytes += m.message.queuedSize
                }
                for sub in subscriptions { s.subscriptions[ByteString(sub.filter.raw)] = sub }
                s.lastSeenMillis = ps.lastSeenMillis
                s.dirty = false
            }
            tree.withLock { t in
                for sub in subscriptions {
                    t.insert(sub.filter, subscriber: Subscriber(session: session, options: sub.options, identifier: sub.identifier))
                }
            }
            sessions.withLock { $0[ByteString(ps.clientID)] = session }
            pending.withLock { _ = $0.persistedSessions.insert(ByteString(ps.clientID)) }
            if ps.expiryInterval != UInt32.max {
                scheduleExpiry(session, after: UInt32(clamping: Int64(ps.expiryInterval) - elapsed))
            }
        }
        retained.withLock { r in
            for pr in stored.retained {
                guard let (message, _) = restoredMessage(pr.publish, receivedAtMillis: pr.receivedAtMillis, nowWall: nowWall) else {
                    expiredRetained.append(ByteString(pr.publish.topic))
                    continue
                }
                var m = message
                m.retain = true
                r.set(m.topic, m)
            }
        }
        pending.withLock { p in
            p.deletedSessions.formUnion(expiredSessions)
            p.retainedTopics.formUnion(expiredRetained)
        }
    }

    // MARK: - Flush

    /// Writes changed (or, when `full`, all) persistent sessions, ended sessions and changed retained
    /// messages in one batch. On failure the work is kept for the next attempt.
    func flush(full: Bool) async {
        let all = sessions.withLock { Array($0.values) }
        var upserts: [PersistedSession] = []
        var live: [EventLoopFuture<PersistedSession?>] = []
        for session in all {
            let (owner, offline) = session.state.withLock { s -> (ConnectionHandle?, PersistedSession?) in
                guard !s.ended, s.expiryInterval > 0 else { return (nil, nil) }
                if let owner = s.owner { return (owner, nil) }
                guard full || s.dirty else { return (nil, nil) }
                s.dirty = false
                return (nil, persisted(session, state: s, outbound: s.parked))
            }
            if let offline { upserts.append(offline) }
            if let owner { live.append(owner.submit { $0.persistenceSnapshot(full: full) }) }
        }
        for f in live {
            if let snapshot = try? await f.get() { upserts.append(snapshot) }
        }
        let (deleted, topics) = pending.withLock { p -> (Set<ByteString>, Set<ByteString>) in
            defer {
                p.deletedSessions.removeAll()
                p.retainedTopics.removeAll()
            }
            return (p.deletedSessions, p.retainedTopics)
        }
        var batch = PersistenceBatch(upsertedSessions: upserts, deletedSessions: deleted.map(\.string))
        if !topics.isEmpty {
            retained.withLock { r in
                for topic in topics {
                    if let m = r.message(for: topic.string) {
                        let publish = persistedMessage(
                            OutboundMessage(message: m, qos: m.qos, retain: true), packetID: nil, state: .queued,
                            now: group.any().now, nowWall: WallClock.nowMillis()
                        ).publish
                        batch.upsertedRetained.append(PersistedRetainedMessage(publish: publish, receivedAtMillis: m.receivedAtMillis))
                    } else {
                        batch.deletedRetained.append(topic.string)
                    }
                }
            }
        }
        guard !batch.isEmpty else { return }
        do {
            try await persistence.write(batch)
        } catch {
            logger.error("persistence write failed; will retry", metadata: ["error": "\(error)"])
            pending.withLock { p in
                p.deletedSessions.formUnion(deleted)
                p.retainedTopics.formUnion(topics)
            }
            for s in upserts { sessions.withLock { $0[ByteString(s.clientID)] }?.state.withLock { $0.dirty = true } }
        }
    }
}
