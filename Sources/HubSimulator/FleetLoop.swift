import HubCore
import Histogram
import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL

/// The drones of one event loop: their connections, a ticker that sends what is due (every 50 ms), the
/// connect pacing, and the loop's counters and latency histograms. Everything here runs on `eventLoop`.
final class FleetLoop {
    let eventLoop: any EventLoop
    private let configuration: FleetSimulator.Configuration
    private let ssl: NIOSSLContext?
    private let serverHostname: String?
    /// This loop's share of the fleet's connect rate, per second.
    private let connectShare: Double
    private(set) var slots: [DroneSlot] = []
    /// Slots waiting to connect (indexes into `slots`), in the order they asked.
    private var waiting: [Int] = []
    private var connectTokens = 1.0
    private var counters = SimulationCounters()
    private var interval = FleetLoop.makeHistogram()
    private var total = FleetLoop.makeHistogram()
    private var ticker: RepeatedTask?
    private var lastTick = NIODeadline.now()
    private var stopping = false
    private var scratch: [DroneAgent.Outgoing] = []
    private var random = SystemRandomNumberGenerator()

    static let tick = TimeAmount.milliseconds(50)

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    init(eventLoop: any EventLoop, configuration: FleetSimulator.Configuration, ssl: NIOSSLContext?, serverHostname: String?, loops: Int) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.ssl = ssl
        self.serverHostname = serverHostname
        connectShare = configuration.connectRate / Double(loops)
    }

    /// Adds drones (before `start`).
    func add(_ slot: DroneSlot) {
        slot.index = slots.count
        waiting.append(slot.index)
        slots.append(slot)
    }

    func start() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        lastTick = .now()
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: Self.tick) { _ in bound.value.onTick() }
    }

    // MARK: ticking

    private func onTick() {
        let now = WallClock.nowMillis()
        let deadline = NIODeadline.now()
        let elapsed = Double((deadline - lastTick).nanoseconds) / 1e9
        lastTick = deadline
        guard !stopping else { return }
        connectTokens = min(max(1, connectShare * 0.2), connectTokens + connectShare * elapsed)
        if !waiting.isEmpty { connectDue(now) }
        let halfKeepAlive = Int64(configuration.keepAlive) * 500
        for slot in slots where slot.state == .online {
            guard let channel = slot.channel else { continue }
            if now >= slot.renewAt {
                slot.state = .closing(renew: true)
                write(.disconnect(MQTTDisconnect()), on: channel)
                channel.flush()
                channel.close(promise: nil)
                continue
            }
            var wrote = false
            if now >= slot.agent.nextDue {
                scratch.removeAll(keepingCapacity: true)
                slot.agent.tick(now: now, into: &scratch)
                for message in scratch { send(message, on: slot, channel: channel, now: now) }
                wrote = !scratch.isEmpty
            }
            if !wrote, now - slot.lastSent >= halfKeepAlive {
                write(.pingReq, on: channel)
                slot.lastSent = now
                wrote = true
            }
            if wrote { channel.flush() }
        }
    }

    /// Starts the connections whose turn has come, as the connect tokens allow.
    private func connectDue(_ now: Int64) {
        var kept: [Int] = []
        kept.reserveCapacity(waiting.count)
        for index in waiting {
            let slot = slots[index]
            guard case .waiting(let notBefore) = slot.state else { continue }
            if notBefore <= now, connectTokens >= 1 {
                connectTokens -= 1
                connect(slot, now: now)
            } else {
                kept.append(index)
            }
        }
        waiting = kept
    }

    private func connect(_ slot: DroneSlot, now: Int64) {
        counters.connectAttempts += 1
        slot.state = .connecting
        slot.lastError = nil
        let lifetime = configuration.tokenLifetime
        slot.renewAt = now + Int64(lifetime * 1000 * Double.random(in: 0.85...0.95, using: &random))
        let packet = slot.connectPacket(hostName: configuration.hostName, expiry: now / 1000 + Int64(lifetime), keepAlive: configuration.keepAlive)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let slotBound = NIOLoopBound(slot, eventLoop: eventLoop)
        let ssl = self.ssl, serverHostname = self.serverHostname
        let timeout = TimeAmount.nanoseconds(Int64(configuration.connectTimeout * 1e9))
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let ssl { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: serverHostname)) }
                    try channel.pipeline.syncOperations.addHandler(DroneChannelHandler(slot: slotBound.value, loop: bound.value, connect: packet))
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { result in
                let loop = bound.value, slot = slotBound.value
                switch result {
                case .success(let channel):
                    guard slot.state == .connecting else {
                        channel.close(promise: nil)
                        return
                    }
                    slot.channel = channel
                case .failure(let error):
                    guard slot.state == .connecting else { return }
                    loop.failed(slot, reason: Self.reason(error))
                }
            }
        slot.connectTimer = eventLoop.scheduleTask(in: timeout) {
            let slot = slotBound.value
            guard slot.state == .connecting else { return }
            slot.lastError = "no CONNACK within \(Int(timeout.nanoseconds / 1_000_000_000)) s"
            if let channel = slot.channel { channel.close(promise: nil) } else { bound.value.failed(slot, reason: slot.lastError!) }
        }
    }

    /// A short reason for the counters (connection refused, TLS handshake failure …).
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 120 ? String(text.prefix(120)) + "…" : text
    }

    /// An attempt failed: wait (doubling from 1 s up to the maximum, with jitter), then try again.
    private func failed(_ slot: DroneSlot, reason: String) {
        slot.connectTimer?.cancel()
        slot.channel = nil
        counters.connectFailures[reason, default: 0] += 1
        guard !stopping else {
            slot.state = .stopped
            return
        }
        slot.failures += 1
        let backoff = min(configuration.maximumBackoff, Double(1 << min(slot.failures - 1, 16)))
        let delay = Int64(backoff * 1000 * Double.random(in: 0.5...1.5, using: &random))
        requeue(slot, notBefore: WallClock.nowMillis() + delay)
    }

    private func requeue(_ slot: DroneSlot, notBefore: Int64) {
        slot.state = .waiting(notBefore: notBefore)
        waiting.append(slot.index)
    }

    // MARK: packets

    /// A packet from the hub on `slot`'s connection.
    func received(_ packet: MQTTPacket, on slot: DroneSlot) {
        guard let channel = slot.channel else { return }
        let now = WallClock.nowMillis()
        switch packet {
        case .connAck(let ack):
            guard slot.state == .connecting else { return }
            slot.connectTimer?.cancel()
            guard ack.reasonCode == .success else {
                slot.lastError = "CONNACK \(ack.reasonCode)"
                channel.close(promise: nil)
                return
            }
            slot.state = .online
            slot.failures = 0
            counters.connected += 1
            for filter in AzureDeviceTopics.subscriptions(deviceID: slot.credential.deviceID) {
                write(.subscribe(MQTTSubscribe(packetID: slot.packetID(), subscriptions: [MQTTSubscription(topicFilter: filter, options: .init(qos: .atLeastOnce))])), on: channel)
            }
            scratch.removeAll(keepingCapacity: true)
            slot.agent.connected(now: now, into: &scratch)
            for message in scratch { send(message, on: slot, channel: channel, now: now) }
        case .pubAck(let ack):
            guard let entry = slot.inflight.removeValue(forKey: ack.packetID) else { return }
            counters.acknowledged += 1
            if entry.telemetry {
                let micros = max(1, (NIODeadline.now().uptimeNanoseconds &- entry.sent) / 1000)
                interval.record(micros)
                total.record(micros)
            }
        case .publish(let publish):
            if publish.qos == .atLeastOnce, let id = publish.packetID { write(.pubAck(MQTTAck(packetID: id)), on: channel) }
            scratch.removeAll(keepingCapacity: true)
            let handled = slot.agent.receive(topic: publish.topic, payload: Array(publish.payload.readableBytesView), now: now, into: &scratch)
            switch handled {
            case .command(let accepted):
                counters.commands += 1
                if accepted { counters.commandsAccepted += 1 }
            case .method: counters.methods += 1
            case .desired: counters.desiredPatches += 1
            case .twinResponse(let status): if status >= 300 { counters.twinErrors += 1 }
            case .ignored: break
            }
            for message in scratch { send(message, on: slot, channel: channel, now: now) }
        default:
            break  // SUBACK, PINGRESP
        }
    }

    /// Publishes one message (QoS 1 messages wait in the in-flight window; a full window drops and counts).
    private func send(_ message: DroneAgent.Outgoing, on slot: DroneSlot, channel: any Channel, now: Int64) {
        let telemetry = message.kind == .flight || message.kind == .status
        var packetID: UInt16?
        if configuration.qos == .atLeastOnce || !telemetry {
            guard slot.inflight.count < configuration.maximumInflight else {
                counters.dropped += 1
                return
            }
            let id = slot.packetID()
            slot.inflight[id] = (NIODeadline.now().uptimeNanoseconds, telemetry)
            packetID = id
        }
        var buffer = channel.allocator.buffer(capacity: message.payload.count)
        buffer.writeBytes(message.payload)
        let publish = MQTTPublish(topic: message.topic, payload: buffer, qos: packetID == nil ? .atMostOnce : .atLeastOnce, packetID: packetID)
        write(.publish(publish), on: channel)
        slot.lastSent = now
        switch message.kind {
        case .flight: counters.flightMessages += 1
        case .status: counters.statusMessages += 1
        case .methodResponse: counters.methodResponses += 1
        case .reportedPatch: counters.reportedPatches += 1
        }
    }

    private func write(_ packet: MQTTPacket, on channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: 64)
        do {
            try packet.encode(into: &buffer, version: .v3_1_1)
        } catch {
            return  // our own packets always encode; a topic too long for MQTT cannot be sent anyway
        }
        channel.write(buffer, promise: nil)
    }

    /// `slot`'s channel closed.
    func closed(_ slot: DroneSlot) {
        slot.connectTimer?.cancel()
        slot.channel = nil
        counters.unacknowledged += slot.inflight.count
        slot.inflight.removeAll()
        switch slot.state {
        case .online:
            counters.connected -= 1
            counters.disconnects += 1
            if stopping { slot.state = .stopped } else { failed(slot, reason: slot.lastError ?? "connection closed by the hub") }
        case .closing(let renew):
            counters.connected -= 1
            if renew, !stopping {
                counters.renewals += 1
                requeue(slot, notBefore: 0)
            } else {
                slot.state = .stopped
            }
        case .connecting:
            failed(slot, reason: slot.lastError ?? "connection closed before CONNACK")
        case .waiting, .stopped:
            break
        }
    }

    // MARK: orchestration

    /// Counters so far and the latency histogram since the last call.
    func snapshot() -> (SimulationCounters, Histogram<UInt64>) {
        defer { interval.reset() }
        return (counters, interval)
    }

    /// The whole run's latency histogram (since `resetTotal`).
    var totalLatency: Histogram<UInt64> { total }

    /// Starts the run's latency histogram afresh (at the end of the warm-up).
    func resetTotal() { total.reset() }

    /// Stops sending, waits up to `drain` for the PUBACKs still due, then disconnects every drone; the
    /// future completes when every channel is closed (or after `timeout` more).
    func stop(drain: TimeAmount = .seconds(3), timeout: TimeAmount) -> EventLoopFuture<Void> {
        stopping = true
        ticker?.cancel()
        let done = eventLoop.makePromise(of: Void.self)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let deadline = NIODeadline.now() + drain
        func check() {
            let loop = bound.value
            if NIODeadline.now() >= deadline || !loop.slots.contains(where: { !$0.inflight.isEmpty && $0.state == .online }) {
                loop.disconnectAll(timeout: timeout).cascade(to: done)
            } else {
                loop.eventLoop.scheduleTask(in: .milliseconds(20)) { check() }
            }
        }
        check()
        return done.futureResult
    }

    private func disconnectAll(timeout: TimeAmount) -> EventLoopFuture<Void> {
        var closing: [EventLoopFuture<Void>] = []
        for slot in slots {
            slot.connectTimer?.cancel()
            switch slot.state {
            case .online, .connecting, .closing:
                guard let channel = slot.channel else {
                    slot.state = .stopped
                    continue
                }
                if slot.state == .online {
                    slot.state = .closing(renew: false)
                    write(.disconnect(MQTTDisconnect()), on: channel)
                    channel.flush()
                }
                closing.append(channel.close().recover { _ in })
            case .waiting:
                slot.state = .stopped
            case .stopped:
                break
            }
        }
        // Done when every channel closed, or at the timeout (whichever comes first).
        let done = eventLoop.makePromise(of: Void.self)
        EventLoopFuture.andAllComplete(closing, on: eventLoop).whenComplete { _ in done.succeed(()) }
        eventLoop.scheduleTask(in: timeout) { done.succeed(()) }
        return done.futureResult
    }
}
