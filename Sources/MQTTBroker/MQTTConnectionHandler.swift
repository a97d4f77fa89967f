import DequeModule
import Logging
import MQTTCodec
import NIOCore
import NIOSSL

/// The channel handler of one MQTT connection (any transport: it consumes and produces raw MQTT bytes).
///
/// It decodes packets, asks the `ConnectionStateMachine` what to do and carries out the action;
/// session delivery (`drain`) and backpressure run here too, on the connection's event loop.
final class MQTTConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let core: BrokerCore
    let listenerName: String
    /// The TLS client's certificate chain, captured during the handshake (TLS listeners only).
    let clientCertificates: PresentedClientCertificates?
    var machine: ConnectionStateMachine
    var context: ChannelHandlerContext?
    var handle: ConnectionHandle?

    /// Bytes received and not yet decoded.
    var cumulation: ByteBuffer?
    /// Encoded output waiting for the next flush (writes are coalesced per read batch / drain).
    var output: ByteBuffer?
    /// Decoding is suspended while the authenticator or the session handoff is pending.
    var inputSuspended = false
    /// Reading is paused because a subscriber's queue is full (backpressure).
    var readPaused = false

    var session: Session?
    /// The session's in-flight state, owned while attached.
    var outbound = SessionOutbound()
    var attached = false
    var params: ConnectionStateMachine.Session?
    var release: EventLoopPromise<Void>?
    var releaseWaitingFor: EventLoopFuture<Void>?
    var detachReason: BrokerCore.DetachReason = .abnormal
    /// Bumped whenever in-flight state changes, so persistence snapshots only dirty sessions.
    var outboundGeneration: UInt64 = 0
    var persistedGeneration: UInt64 = .max

    var connectDeadline: Scheduled<Void>?
    var keepAliveTimer: Scheduled<Void>?
    /// The grant this connection was accepted with (kept past the state machine's close, for observers).
    var activeGrant: ConnectGrant?
    /// Closes the connection when its credential expires (SAS token `se`).
    var credentialExpiry: Scheduled<Void>?
    var acksReceived = false
    /// Inbound acknowledgements not sent yet, in arrival order: the first waits for its message to be
    /// stored, the others wait for it (they may be ready already).
    var pendingAcknowledgements = Deque<PendingAcknowledgement>()
    /// The sequence number of `pendingAcknowledgements.first` (each acknowledgement queued gets the next).
    var firstPendingAcknowledgement: UInt64 = 0
    /// A flush of settled acknowledgements is queued on the event loop.
    var acknowledgementFlushQueued = false
    var drainBatch = Session.DrainBatch()

    /// An inbound PUBACK/PUBREC waiting its turn.
    struct PendingAcknowledgement {
        enum State { case waiting, stored, failed }
        let packet: MQTTPacket
        var state: State
    }

    /// Messages handed to the socket per drain turn before yielding to other connections.
    static let drainBudget = 512

    init(core: BrokerCore, listenerName: String, clientCertificates: PresentedClientCertificates? = nil) {
        self.core = core
        self.listenerName = listenerName
        self.clientCertificates = clientCertificates
        self.machine = ConnectionStateMachine(limits: core.limits)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let handle = ConnectionHandle(handler: self, channel: context.channel)
        self.handle = handle
        if !core.connectionOpened(handle) {
            // Over the connection limit: answer the CONNECT (if it comes quickly) with "server busy".
            overLimit = true
        }
        let timeout = TimeAmount.nanoseconds(Int64(core.configuration.connectTimeoutSeconds * 1_000_000_000))
        connectDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard let context = self.context else { return }
            self.perform(self.machine.connectDeadlinePassed(), context: context)
        }
    }

    var overLimit = false

    func channelInactive(context: ChannelHandlerContext) {
        connectDeadline?.cancel()
        keepAliveTimer?.cancel()
        credentialExpiry?.cancel()
        machine.connectionClosed()
        if let handle { core.connectionClosed(handle) }
        finishSession()
        cumulation = nil
        output = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Transport errors (reset, TLS failure) end the connection abnormally; the Will applies.
        core.logger.trace("connection error", metadata: ["error": "\(type(of: error))"])
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if machine.isClosed { return }
        // `take()` leaves the buffer uniquely referenced, so appending does not copy it (CoW).
        if var c = cumulation.take() {
            c.writeBuffer(&bytes)
            cumulation = c
        } else {
            cumulation = bytes
        }
        machine.bytesReceived(now: context.eventLoop.now)
        processInput(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if acksReceived {
            acksReceived = false
            drain()
        }
        flushOutput(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Input

    func processInput(context: ChannelHandlerContext) {
        while !inputSuspended && !readPaused && !machine.isClosed, var buffer = cumulation, buffer.readableBytes > 0 {
            let packet: MQTTPacket?
            do {
                if machine.version == nil {
                    // Before CONNECT only a CONNECT is acceptable; refuse anything else unanswered. (M4)
                    guard let header = try MQTTPacketDecoder.peekFixedHeader(in: buffer, maximumPacketSize: core.decoderConfiguration.maximumPacketSize) else {
                        return
                    }
                    guard header.type == .connect else {
                        core.statistics.protocolErrors.wrappingAdd(1, ordering: .relaxed)
                        perform(.close, context: context)
                        return
                    }
                }
                packet = try MQTTPacketDecoder.decode(from: &buffer, version: machine.version ?? .v5, configuration: core.decoderConfiguration)
                cumulation = buffer
            } catch {
                cumulation = buffer
                decodeFailed(error, context: context)
                continue
            }
            guard let packet else { break }
            handle(packet, context: context)
        }
        if var c = cumulation.take(), c.readableBytes > 0 {
            // An idle connection holds no buffer; a mostly consumed one is compacted.
            if c.readerIndex > 16 * 1024 && c.readerIndex > c.readableBytes { c.discardReadBytes() }
            cumulation = c
        }
    }

    private func decodeFailed(_ error: MQTTCodecError, context: ChannelHandlerContext) {
        core.statistics.protocolErrors.wrappingAdd(1, ordering: .relaxed)
        if machine.version == nil, let answer = Self.connectRefusal(for: error, in: cumulation) {
            // Unsupported protocol level or a malformed 5.0 CONNECT: answer with CONNACK, then close.
            perform(.sendAndClose(.connAck(MQTTConnAck(sessionPresent: false, reasonCode: answer.code))), context: context, version: answer.version)
            return
        }
        perform(machine.decodeFailed(error), context: context)
    }

    /// How to refuse a CONNECT that did not decode: 3.1.1-format CONNACK 0x01 for an unknown protocol
    /// level (a 5.0 CONNACK 0x84 when the level byte said 5), a 5.0 CONNACK with the error's reason code
    /// for other errors in a level-5 CONNECT; nil (plain close) otherwise.
    static func connectRefusal(for error: MQTTCodecError, in buffer: ByteBuffer?) -> (code: MQTTReasonCode, version: MQTTProtocolVersion)? {
        let level = buffer.flatMap(peekConnectLevel)
        if error.code == .unsupportedProtocolVersion {
            return level == 5 ? (.unsupportedProtocolVersion, .v5) : (.unsupportedProtocolVersion, .v3_1_1)
        }
        guard level == 5 else { return nil }
        return (error.reasonCode, .v5)
    }

    /// The Protocol Level byte of a CONNECT at the front of `buffer`, if enough bytes are there.
    static func peekConnectLevel(_ buffer: ByteBuffer) -> UInt8? {
        var b = buffer
        guard let first = b.readInteger(as: UInt8.self), first >> 4 == 1 else { return nil }
        var length = 0
        for i in 0..<4 {
            guard let byte = b.readInteger(as: UInt8.self) else { return nil }
            length |= Int(byte & 0x7F) << (7 * i)
            if byte & 0x80 == 0 { break }
            if i == 3 { return nil }
        }
        guard let nameLength = b.readInteger(as: UInt16.self), nameLength <= 6, b.readableBytes > Int(nameLength) else { return nil }
        b.moveReaderIndex(forwardBy: Int(nameLength))
        return b.readInteger(as: UInt8.self)
    }

    private func handle(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        if case .connect(let connect) = packet {
            connectDeadline?.cancel()  // the deadline covers the CONNECT packet, authentication has its own
            let action = machine.connectReceived(connect, now: now, assignClientID: core.assignClientID)
            if case .authenticate = action {
                var refusal: MQTTReasonCode?
                if overLimit {
                    refusal = core.shuttingDown.load(ordering: .relaxed) ? .serverUnavailable : .serverBusy
                } else if !core.admitConnect(now: now) {
                    refusal = .connectionRateExceeded  // 3.1.1: 0x03 Server unavailable
                }
                if let refusal {
                    core.statistics.connectionsRefused.wrappingAdd(1, ordering: .relaxed)
                    perform(machine.attachFailed(refusal), context: context)
                    return
                }
            }
            perform(action, context: context, connect: connect)
            return
        }
        let action = machine.packetReceived(packet, now: now)
        // Counted before the action runs: a refusal that closes the connection must be visible to
        // anyone who sees the close.
        countAuthorizationDenials()
        perform(action, context: context)
        countAuthorizationDenials()
    }

    private func countAuthorizationDenials() {
        if machine.authorizationDenials > 0 {
            core.statistics.authorizationDenials.wrappingAdd(machine.authorizationDenials, ordering: .relaxed)
            machine.authorizationDenials = 0
        }
    }

    // MARK: - Actions

    func perform(
        _ action: ConnectionStateMachine.Action, context: ChannelHandlerContext,
        connect: MQTTConnect? = nil, version: MQTTProtocolVersion? = nil
    ) {
        switch action {
        case .none:
            break
        case .close:
            detachReason = .abnormal
            flushOutput(context: context)
            context.close(promise: nil)
        case .sendAndClose(let packet):
            if case .connAck(let ack) = packet, ack.reasonCode.isFailure {
                core.statistics.connectionsRefused.wrappingAdd(1, ordering: .relaxed)
            } else if case .disconnect(let d) = packet, d.reasonCode == .protocolError || d.reasonCode == .malformedPacket {
                core.statistics.protocolErrors.wrappingAdd(1, ordering: .relaxed)
            }
            send(packet, context: context, version: version)
            flushOutput(context: context)
            context.close(promise: nil)
        case .send(let packet):
            send(packet, context: context)
        case .authenticate(let params):
            authenticate(params, connect: connect!, context: context)
        case .route(let message, let packetID):
            routeInbound(message, packetID: packetID, context: context)
        case .subscribe(let packetID, let requests, let identifier):
            guard let session else { return }
            let result = core.subscribe(session, requests: requests, identifier: identifier)
            send(.subAck(MQTTSubAck(packetID: packetID, reasonCodes: result.codes)), context: context)
            if let observer = core.observer, let params {
                let granted = zip(requests, result.codes).compactMap { request, code in code.isFailure ? nil : request.filter?.raw }
                if !granted.isEmpty { observer.clientSubscribed(clientID: params.clientID, filters: granted) }
            }
            for m in result.retained {
                let outcome = session.enqueue(m, limits: core.queueLimits)
                if outcome.dropped > 0 { core.statistics.messagesDropped.wrappingAdd(outcome.dropped, ordering: .relaxed) }
            }
            if !result.retained.isEmpty { drain() }
        case .unsubscribe(let packetID, let filters):
            guard let session else { return }
            let codes = core.unsubscribe(session, filters: filters)
            send(.unsubAck(MQTTUnsubAck(packetID: packetID, reasonCodes: codes)), context: context)
        case .outboundAck(let type, let packetID, let reasonCode):
            outboundAckReceived(type, packetID: packetID, reasonCode: reasonCode, context: context)
        case .releaseInbound(let packetID):
            // [MQTT-4.3.3-?] PUBCOMP answers PUBREL; an unknown id gets 0x92 in 5.0. (M35)
            let known = outbound.inboundQoS2.remove(packetID) != nil
            outboundGeneration &+= 1
            send(.pubComp(MQTTAck(packetID: packetID, reasonCode: known ? .success : .packetIdentifierNotFound)), context: context)
        case .clientDisconnected(let publishWill, let newExpiry):
            if let newExpiry { params?.sessionExpiryInterval = newExpiry }
            detachReason = publishWill ? .disconnectWithWill : .normalDisconnect
            flushOutput(context: context)
            context.close(promise: nil)
        }
    }

    private func routeInbound(_ message: ApplicationMessage, packetID: UInt16?, context: ChannelHandlerContext) {
        core.statistics.messagesReceived.wrappingAdd(1, ordering: .relaxed)
        if message.qos == .exactlyOnce, let id = packetID {
            if outbound.inboundQoS2.contains(id) {
                // A retransmission of a message already accepted: acknowledge, do not deliver twice.
                send(.pubRec(MQTTAck(packetID: id)), context: context)
                return
            }
            if outbound.inboundQoS2.count >= Int(core.limits.receiveMaximum) {
                perform(machine.serverDisconnect(.receiveMaximumExceeded), context: context)  // M33
                return
            }
        }
        var routed: ApplicationMessage? = message
        var acknowledgeWhen: EventLoopFuture<Void>?
        var decorate: (@Sendable (inout ApplicationMessage) -> Void)?
        if let grant = activeGrant, let interceptor = grant.interceptor, let params {
            let client = PublishingClient(
                clientID: params.clientID, grant: grant, protocolVersion: params.version, eventLoop: context.eventLoop)
            switch interceptor.intercept(message, from: client) {
            case .route:
                break
            case .accept(let replacement, let future, let decoration):
                routed = replacement
                acknowledgeWhen = future
                decorate = decoration
            case .refuse(let code):
                perform(machine.interceptorRefused(qos: message.qos, packetID: packetID, code), context: context)
                return
            case .disconnect(let code):
                perform(machine.serverDisconnect(code), context: context)
                return
            }
        }
        if let routed { pauseIfNeeded(core.route(routed, publisher: handle, decorate: decorate), context: context) }
        acknowledge(message.qos, packetID: packetID, when: acknowledgeWhen, context: context)
    }

    /// Sends the PUBACK (or, for QoS 2, the PUBREC) of an accepted inbound message: at once, or when
    /// `future` succeeds. While any acknowledgement waits, later ones queue behind it so they leave in
    /// the order the messages arrived. A failed future (the message was not stored) sends no
    /// acknowledgement and closes the connection (5.0: DISCONNECT 0x89 Server busy first): clients resend
    /// an unacknowledged PUBLISH only when they reconnect [MQTT-4.4.0-1], so an open connection would
    /// leave the message, and the client's in-flight window, stuck for good. Messages after it on the
    /// connection are not acknowledged either; the client resends them too (at least once).
    func acknowledge(_ qos: MQTTQoS, packetID: UInt16?, when future: EventLoopFuture<Void>?, context: ChannelHandlerContext) {
        guard qos != .atMostOnce, let packetID else { return }
        if qos == .exactlyOnce {
            // Awaiting PUBREL from here on (retransmissions were answered before routing).
            outbound.inboundQoS2.insert(packetID)
            outboundGeneration &+= 1
        }
        let packet: MQTTPacket = qos == .exactlyOnce ? .pubRec(MQTTAck(packetID: packetID)) : .pubAck(MQTTAck(packetID: packetID))
        if future == nil && pendingAcknowledgements.isEmpty {
            send(packet, context: context)
            return
        }
        // One callback per deferred message, no future chains: the queue keeps the order.
        let sequence = firstPendingAcknowledgement &+ UInt64(pendingAcknowledgements.count)
        pendingAcknowledgements.append(PendingAcknowledgement(packet: packet, state: future == nil ? .stored : .waiting))
        guard let future else { return }
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let settled: @Sendable (Result<Void, any Error>) -> Void = { result in
            if case .success = result { bound.value.acknowledgementSettled(sequence, stored: true) } else { bound.value.acknowledgementSettled(sequence, stored: false) }
        }
        if future.eventLoop === loop {
            future.whenComplete(settled)
        } else {
            future.hop(to: loop).whenComplete(settled)
        }
    }

    /// The store answered for the acknowledgement numbered `sequence`: send every acknowledgement at the
    /// head of the queue that is ready, in order; a message that was not stored closes the connection.
    private func acknowledgementSettled(_ sequence: UInt64, stored: Bool) {
        let index = Int(truncatingIfNeeded: sequence &- firstPendingAcknowledgement)
        guard index >= 0, index < pendingAcknowledgements.count else { return }
        pendingAcknowledgements[index].state = stored ? .stored : .failed
        guard let context, !machine.isClosed else { return }
        var sent = false
        while let first = pendingAcknowledgements.first, first.state != .waiting {
            pendingAcknowledgements.removeFirst()
            firstPendingAcknowledgement &+= 1
            guard first.state == .stored else {
                core.statistics.acknowledgementsWithheld.wrappingAdd(1, ordering: .relaxed)
                firstPendingAcknowledgement &+= UInt64(pendingAcknowledgements.count)
                pendingAcknowledgements.removeAll()
                perform(machine.serverDisconnect(.serverBusy), context: context)
                return
            }
            send(first.packet, context: context)
            sent = true
        }
        guard sent, !acknowledgementFlushQueued else { return }
        // The store settles a whole batch at once, as one event-loop task per message: flushing after
        // the tasks already queued sends this connection's share of the batch in one write, not one
        // TLS record and syscall per PUBACK.
        acknowledgementFlushQueued = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = bound.value
            handler.acknowledgementFlushQueued = false
            if let context = handler.context { handler.flushOutput(context: context) }
        }
    }

    private func outboundAckReceived(_ type: MQTTPacketType, packetID: UInt16, reasonCode: MQTTReasonCode, context: ChannelHandlerContext) {
        let tag = outbound.entries[packetID]?.message.message.deliveryTag
        defer {
            if let tag, let params, outbound.entries[packetID] == nil {
                core.observer?.messageAcknowledged(clientID: params.clientID, deliveryTag: tag)
            }
        }
        let result: SessionOutbound.AckResult
        switch type {
        case .pubAck: result = outbound.pubAckReceived(packetID)
        case .pubRec: result = outbound.pubRecReceived(packetID, reasonCode: reasonCode)
        default: result = outbound.pubCompReceived(packetID)
        }
        switch result {
        case .completed, .completedWithoutPubRel:
            outboundGeneration &+= 1
            acksReceived = true
        case .sendPubRel:
            outboundGeneration &+= 1
            send(.pubRel(MQTTAck(packetID: packetID)), context: context)
        case .unknown:
            if type == .pubRec, machine.session?.version == .v5 {
                send(.pubRel(MQTTAck(packetID: packetID, reasonCode: .packetIdentifierNotFound)), context: context)
            }
        }
    }

    // MARK: - Backpressure

    private func pauseIfNeeded(_ pause: Bool, context: ChannelHandlerContext) {
        guard pause, !readPaused else { return }
        readPaused = true
        core.statistics.publishersPaused.wrappingAdd(1, ordering: .relaxed)
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
    }

    /// A subscriber's queue drained below its low-water mark: read again.
    func resumeReading() {
        guard readPaused, let context else { return }
        readPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        processInput(context: context)
        flushOutput(context: context)
    }

    // MARK: - Output

    func send(_ packet: MQTTPacket, context: ChannelHandlerContext, version: MQTTProtocolVersion? = nil) {
        let version = version ?? machine.version ?? .v3_1_1
        // `take()` keeps the buffer uniquely referenced while appending (no copy-on-write per packet).
        var buffer = output.take() ?? context.channel.allocator.buffer(capacity: 256)
        do {
            try packet.encode(into: &buffer, version: version)
        } catch {
            core.logger.debug("dropped an unencodable packet", metadata: ["type": "\(packet.type)"])
        }
        output = buffer
    }

    func flushOutput(context: ChannelHandlerContext) {
        guard let buffer = output else { return }
        output = nil
        if buffer.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
