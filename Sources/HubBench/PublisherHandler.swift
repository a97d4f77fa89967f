import MQTTCodec
import NIOCore

/// How a publisher's connection attempt ended.
enum ConnectOutcome: Sendable, Hashable {
    /// CONNACK 0; `window` is the in-flight window in use (clamped to a 5.0 Receive Maximum).
    case accepted(window: Int)
    /// The broker refused the CONNECT with this code.
    case refused(MQTTReasonCode)
    /// TCP, TLS or the protocol failed, or no CONNACK came in time.
    case failed(String)
}

/// One publisher's connection: CONNECT, then PUBLISHes from a pre-encoded template as fast as the
/// window allows (flat out) or when due (rate mode), and PUBACK latencies into its loop's histograms.
///
/// Lean on purpose, since the generator shares the CPU with the broker it measures: one send buffer
/// reused for every batch, one write and one flush per batch, no packet values built per message, and
/// the clock read once per batch or read event.
final class PublisherHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Connection states.
    private enum State {
        /// TCP (and TLS) up or coming, CONNECT sent, no CONNACK yet.
        case connecting
        /// CONNACK 0 received; waiting for the run to start.
        case connected
        /// The run started: sending.
        case publishing
        /// We sent DISCONNECT and are closing.
        case closing
        /// The connection is gone.
        case closed
    }

    /// Position of this publisher in the run (staggers rate-mode schedules).
    let index: Int
    private let publisher: BenchPublisher
    private let template: PublishTemplate
    private let version: MQTTProtocolVersion
    private let qos: MQTTQoS
    private let keepAlive: UInt16
    private let connectTimeout: TimeAmount
    private unowned let loop: PublisherLoop
    private let connected: EventLoopPromise<ConnectOutcome>

    private var state = State.connecting
    private var flow: PublishFlow
    private var plan: RunPlan?
    private var context: ChannelHandlerContext?
    /// Bytes of an incomplete packet carried over to the next read.
    private var pending: ByteBuffer?
    private var connectTimer: Scheduled<Void>?
    /// QoS 0 flat out: a `pump` is already queued on the loop.
    private var pumpQueued = false
    /// Self, for closures run later on this loop; cleared when the channel closes.
    private var bound: NIOLoopBound<PublisherHandler>?

    /// QoS 0 messages written per turn of the event loop in flat-out mode.
    static let qos0Batch = 64
    /// QoS 0 messages written in one batch at most in rate mode (a late loop catches up over several).
    static let maximumBatch = 4096

    init(
        index: Int, publisher: BenchPublisher, template: PublishTemplate, configuration: PublishBenchmark.Configuration,
        loop: PublisherLoop, connected: EventLoopPromise<ConnectOutcome>
    ) {
        self.index = index
        self.publisher = publisher
        self.template = template
        self.version = configuration.protocolVersion
        self.qos = configuration.qos
        self.keepAlive = configuration.keepAlive
        self.connectTimeout = .nanoseconds(Int64(configuration.connectTimeout * 1e9))
        self.loop = loop
        self.connected = connected
        let batch = configuration.qos == .atMostOnce ? Self.qos0Batch : configuration.inflight
        self.flow = PublishFlow(inflight: configuration.inflight, bufferCapacity: template.size * Swift.min(batch, Self.maximumBatch))
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        bound = NIOLoopBound(self, eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        bound = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let connect = MQTTConnect(
            protocolVersion: version, cleanStart: true, keepAlive: keepAlive, clientID: publisher.clientID,
            username: publisher.username, password: publisher.password.map { ByteBuffer(string: $0) })
        var buffer = context.channel.allocator.buffer(capacity: 512)
        do {
            try MQTTPacket.connect(connect).encode(into: &buffer, version: version)
        } catch {
            connected.succeed(.failed("cannot encode CONNECT: \(error)"))
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let bound = self.bound
        let seconds = Double(connectTimeout.nanoseconds) / 1e9
        connectTimer = context.eventLoop.scheduleTask(in: connectTimeout) {
            guard let handler = bound?.value, case .connecting = handler.state else { return }
            handler.connected.succeed(.failed("no CONNACK within \(seconds) s"))
            handler.context?.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectTimer?.cancel()
        switch state {
        case .connecting:
            connected.succeed(.failed("connection closed before CONNACK"))
        case .connected, .publishing:
            flow.countDisconnect()
        case .closing, .closed:
            break
        }
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        flow.countError()
        if case .connecting = state { connected.succeed(.failed("\(error)")) }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var carried = pending {
            pending = nil
            carried.writeBuffer(&buffer)
            buffer = carried
        }
        let now = MonotonicClock.now()
        while true {
            let packet: MQTTPacket?
            do {
                packet = try MQTTPacketDecoder.decode(from: &buffer, version: version)
            } catch {
                flow.countError()
                if case .connecting = state { connected.succeed(.failed("bad packet from the broker: \(error)")) }
                context.close(promise: nil)
                return
            }
            guard let packet else { break }
            received(packet, at: now, context: context)
        }
        if buffer.readableBytes > 0 { pending = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Acknowledgements freed room in the window: refill it, in one write.
        if qos == .atLeastOnce, case .publishing = state { sendDue(now: MonotonicClock.now()) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if qos == .atMostOnce, flow.schedule == nil, context.channel.isWritable, !pumpQueued { pump() }
        context.fireChannelWritabilityChanged()
    }

    private func received(_ packet: MQTTPacket, at now: UInt64, context: ChannelHandlerContext) {
        switch packet {
        case .pubAck(let ack):
            if let latency = flow.acknowledged(ack.packetID, at: now, plan: plan) { loop.record(latency: latency, at: now) }
        case .connAck(let ack):
            guard case .connecting = state else {
                flow.countError()
                return
            }
            connectTimer?.cancel()
            guard ack.reasonCode == .success else {
                state = .closing
                connected.succeed(.refused(ack.reasonCode))
                context.close(promise: nil)
                return
            }
            // [MQTT-3.3.4-7] A 5.0 server's Receive Maximum bounds our QoS 1 window.
            if version == .v5, let limit = ack.properties.receiveMaximum { flow.clampWindow(to: Int(limit)) }
            state = .connected
            connected.succeed(.accepted(window: flow.window.limit))
        case .pingResp, .publish, .disconnect:
            // No subscriptions, so no PUBLISH is expected; a 5.0 DISCONNECT is followed by the close,
            // which is counted then.
            break
        default:
            flow.countError()
        }
    }

    // MARK: - Publishing

    /// The run's timeline arrived: set up the schedule (rate mode).
    func prepare(_ plan: RunPlan) {
        guard case .connected = state else { return }
        self.plan = plan
        flow.start(schedule: plan.schedule(forPublisher: index))
        state = .publishing
    }

    /// Sends what may be sent at `now`: flat out, everything the window allows; in rate mode, every due
    /// message the window allows. One write and one flush for the lot.
    func sendDue(now: UInt64) {
        guard case .publishing = state, let plan, let context else { return }
        if qos == .atMostOnce && flow.schedule == nil {
            if !pumpQueued { pump() }
            return
        }
        guard flow.fill(now: now, plan: plan, template: template, qos: qos, maximumBatch: Self.maximumBatch) > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(flow.out), promise: nil)
    }

    /// QoS 0 flat out: a batch per turn of the loop while the socket takes it.
    private func pump() {
        pumpQueued = false
        guard case .publishing = state, let plan, let context, let bound else { return }
        guard flow.fill(now: MonotonicClock.now(), plan: plan, template: template, qos: qos, maximumBatch: Self.qos0Batch) > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(flow.out), promise: nil)
        if context.channel.isWritable {
            pumpQueued = true
            context.eventLoop.execute { bound.value.pump() }
        }
    }

    // MARK: - Reporting and closing

    /// This publisher's counts at `now`.
    func counters(at now: UInt64) -> PublisherCounters {
        var c = flow.counts
        c.backlog = flow.schedule?.backlog(at: now) ?? 0
        switch state {
        case .connected, .publishing:
            c.open = 1
            c.inflight = UInt64(flow.window.count)
        default:
            // Messages in flight on a lost connection will never be acknowledged: they show as
            // sent − acknowledged, not as in flight (which the drain waits for).
            c.open = 0
            c.inflight = 0
        }
        return c
    }

    /// Sends DISCONNECT and closes; the future completes when the channel is closed.
    func finish() -> EventLoopFuture<Void> {
        guard let context else { return loop.eventLoop.makeSucceededVoidFuture() }
        switch state {
        case .connected, .publishing, .connecting:
            connected.succeed(.failed("closed before CONNACK"))  // no-op once completed
            state = .closing
            var buffer = context.channel.allocator.buffer(capacity: 2)
            try? MQTTPacket.disconnect(MQTTDisconnect()).encode(into: &buffer, version: version)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            context.close(promise: nil)
        case .closing, .closed:
            break
        }
        return context.channel.closeFuture
    }
}
