import MQTTCodec
import NIOCore
import NIOSSL

/// Authentication, session attach/detach, delivery and timers of a connection.
extension MQTTConnectionHandler {
    // MARK: - Authentication and attach

    func authenticate(_ params: ConnectionStateMachine.Session, connect: MQTTConnect, context: ChannelHandlerContext) {
        inputSuspended = true
        let request = ConnectRequest(
            clientID: params.clientID, username: connect.username, password: connect.password,
            protocolVersion: params.version, remoteAddress: context.channel.remoteAddress,
            listenerName: listenerName, peerCertificateChainDER: clientCertificates?.chainDER ?? [])
        if let decision = core.authenticator.decideImmediately(request) {
            authenticationCompleted(decision)
            return
        }
        // Stop reading while the authenticator works; what was already read stays buffered.
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let authenticator = core.authenticator
        context.eventLoop.makeFutureWithTask { await authenticator.authenticate(request) }
            .assumeIsolated()
            .whenSuccess { decision in
                self.context?.channel.setOption(ChannelOptions.autoRead, value: !self.readPaused).whenFailure { _ in }
                self.authenticationCompleted(decision)
            }
    }

    private func authenticationCompleted(_ decision: ConnectDecision) {
        guard let context, !machine.isClosed else { return }
        if case .reject = decision { core.statistics.authenticationFailures.wrappingAdd(1, ordering: .relaxed) }
        let action = machine.authenticationCompleted(decision)
        if case .none = action {} else {
            perform(action, context: context)
            return
        }
        guard let params = machine.session, let handle else { return }
        if core.shuttingDown.load(ordering: .relaxed) {
            perform(machine.attachFailed(.serverUnavailable), context: context)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        release = promise
        self.params = params
        let result = core.attach(handle, params, release: promise.futureResult)
        session = result.session
        if let previous = result.previousRelease {
            releaseWaitingFor = previous
            previous.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in
                self.handoffCompleted(sessionPresent: result.sessionPresent)
            }
        } else {
            handoffCompleted(sessionPresent: result.sessionPresent)
        }
    }

    /// The previous owner (if any) has parked the session's in-flight state: take it, answer CONNACK,
    /// redeliver what was in flight, and start reading again.
    private func handoffCompleted(sessionPresent: Bool) {
        releaseWaitingFor = nil
        guard let context, let session, let handle, !machine.isClosed else {
            // Closed while waiting: channelInactive already passed the handoff on.
            return
        }
        let parked = session.state.withLock { s -> SessionOutbound? in
            guard s.owner === handle else { return nil }
            let p = s.parked
            s.parked = SessionOutbound()
            return p
        }
        guard let parked else {
            // Taken over by yet another connection while we waited.
            perform(machine.serverDisconnect(.sessionTakenOver), context: context)
            return
        }
        outbound = parked
        attached = true
        core.statistics.connectionsAccepted.wrappingAdd(1, ordering: .relaxed)
        guard let connAck = machine.sessionAttached(sessionPresent: sessionPresent, now: context.eventLoop.now) else { return }
        send(connAck, context: context)
        scheduleKeepAlive()
        if let grant = machine.grant {
            activeGrant = grant
            if let validFor = grant.validFor {
                let nanos = validFor.components.seconds * 1_000_000_000 + validFor.components.attoseconds / 1_000_000_000
                credentialExpiry = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(max(0, nanos))) {
                    self.kick(.maximumConnectTime)
                }
            }
            if let clientID = params?.clientID { core.observer?.clientConnected(clientID: clientID, grant: grant) }
        }

        // Redeliver what was in flight, in order, before anything new. [MQTT-4.4.0-1], [MQTT-4.6.0-1]
        let now = context.eventLoop.now
        let expired = outbound.dropExpired(at: now)
        if expired > 0 { core.statistics.messagesExpired.wrappingAdd(expired, ordering: .relaxed) }
        for (id, entry) in outbound.inflightInOrder {
            if entry.stage == .awaitingPubComp {
                send(.pubRel(MQTTAck(packetID: id)), context: context)
            } else {
                sendPublish(entry.message, packetID: id, dup: true, now: now, context: context)
            }
        }
        inputSuspended = false
        drain()
        processInput(context: context)
        flushOutput(context: context)
    }

    /// Called from channelInactive: hands the session back to the broker.
    func finishSession() {
        guard let session, let handle, let params else {
            release?.succeed(())
            return
        }
        if attached {
            core.detach(handle, session: session, outbound: outbound, params: params, reason: detachReason)
            release?.succeed(())
            if let grant = activeGrant { core.observer?.clientDisconnected(clientID: params.clientID, grant: grant) }
        } else {
            core.detach(handle, session: session, outbound: nil, params: params, reason: detachReason)
            if let waiting = releaseWaitingFor, let release {
                // We never took the state; pass the handoff on once the previous owner has parked it.
                waiting.cascade(to: release)
            } else {
                release?.succeed(())
            }
        }
        release = nil
        releaseWaitingFor = nil
        self.session = nil
        attached = false
        outbound = SessionOutbound()
    }

    /// Re-checks this connection's grant (after a registry change); closes it with the returned reason.
    func revalidate(_ check: @Sendable (ConnectGrant) -> MQTTReasonCode?) {
        guard attached, !machine.isClosed, let grant = activeGrant, let reason = check(grant) else { return }
        kick(reason)
    }

    /// The broker wants this connection gone: takeover (0x8E), shutdown (0x8B), administrative action.
    func kick(_ reason: MQTTReasonCode) {
        guard let context, !machine.isClosed else { return }
        detachReason = reason == .serverShuttingDown ? .shutdown : .abnormal
        perform(machine.serverDisconnect(reason), context: context)
    }

    // MARK: - Delivery

    /// Sends what the session's mailbox holds, within the in-flight window, the socket's writability and
    /// a per-turn budget (then yields to other connections on this loop).
    func drain() {
        guard attached, let context, let session, let handle, let params else { return }
        guard context.channel.isWritable else {
            session.markDrainBlocked(owner: handle)
            return
        }
        let window = max(0, Int(params.outboundWindow) - outbound.inflightCount)
        guard session.takeForDelivery(owner: handle, window: window, budget: Self.drainBudget, limits: core.queueLimits, into: &drainBatch) else {
            return
        }
        let now = context.eventLoop.now
        var sent = 0
        var expired = 0
        for m in drainBatch.messages {
            if m.message.isExpired(at: now) {
                expired += 1
                continue
            }
            var packetID: UInt16?
            if m.qos != .atMostOnce {
                packetID = outbound.send(m)
                outboundGeneration &+= 1
            }
            if sendPublish(m, packetID: packetID, dup: false, now: now, context: context) { sent += 1 }
        }
        let wake = drainBatch.wake
        let more = drainBatch.more
        drainBatch.messages.removeAll(keepingCapacity: drainBatch.messages.count >= 64)
        drainBatch.wake.removeAll()
        drainBatch.more = false
        if sent > 0 { core.statistics.messagesSent.wrappingAdd(sent, ordering: .relaxed) }
        if expired > 0 { core.statistics.messagesExpired.wrappingAdd(expired, ordering: .relaxed) }
        flushOutput(context: context)
        for w in wake { w.execute { $0.resumeReading() } }
        if !context.channel.isWritable {
            session.markDrainBlocked(owner: handle)
        } else if more {
            handle.scheduleDrain()
        }
    }

    /// Encodes one PUBLISH for this client. Returns false when it was dropped as too large for the
    /// client's Maximum Packet Size (which counts as delivered). [MQTT-3.1.2-24/25]
    @discardableResult
    func sendPublish(_ m: OutboundMessage, packetID: UInt16?, dup: Bool, now: NIODeadline, context: ChannelHandlerContext) -> Bool {
        guard let params else { return false }
        var properties = MQTTProperties()
        if params.version == .v5 {
            properties = m.message.properties
            if let remaining = m.message.remainingExpirySeconds(at: now) { properties.messageExpiryInterval = remaining }
            if !m.subscriptionIdentifiers.isEmpty { properties.subscriptionIdentifiers = m.subscriptionIdentifiers }
        }
        let packet = MQTTPacket.publish(MQTTPublish(
            topic: m.message.topic, payload: m.message.payload, qos: m.qos, retain: m.retain, dup: dup,
            packetID: packetID, properties: properties))
        if let maximum = params.clientMaximumPacketSize, packet.encodedSize(version: params.version) > Int(maximum) {
            if let packetID { outbound.discard(packetID) }
            core.statistics.messagesDropped.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        send(packet, context: context)
        return true
    }

    // MARK: - Keep-alive

    func scheduleKeepAlive() {
        guard let context, let next = machine.nextKeepAliveCheck else { return }
        keepAliveTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) {
            self.keepAliveFired()
        }
    }

    private func keepAliveFired() {
        guard let context else { return }
        // While backpressure keeps us from reading, the client's PINGREQs sit unread in the socket:
        // silence is ours, not the client's.
        if readPaused { machine.bytesReceived(now: context.eventLoop.now) }
        let action = machine.keepAliveTimerFired(now: context.eventLoop.now)
        if case .none = action {
            scheduleKeepAlive()
        } else {
            perform(action, context: context)
        }
    }

    // MARK: - Persistence

    /// The session as it should be persisted now, or nil when it is not persistent or unchanged since the
    /// last snapshot (unless `full`).
    func persistenceSnapshot(full: Bool) -> PersistedSession? {
        guard attached, let session, let params, params.sessionExpiryInterval > 0 else { return nil }
        let changed = outboundGeneration != persistedGeneration
        let snapshot = session.state.withLock { s -> PersistedSession? in
            guard full || changed || s.dirty else { return nil }
            s.dirty = false
            return core.persisted(session, state: s, outbound: outbound)
        }
        if snapshot != nil { persistedGeneration = outboundGeneration }
        return snapshot
    }
}
