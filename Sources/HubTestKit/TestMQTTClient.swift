import DequeModule
import MQTTCodec
import NIOCore
import NIOPosix
import Synchronization

/// A deliberately simple MQTT client for tests, built on MQTTCodec: it sends exactly the packets
/// (or raw bytes) a test asks for and hands back every packet the server sends, so tests can assert
/// on the wire behaviour itself. No automatic acks, no retries.
public final class TestMQTTClient: Sendable {
    public enum Failure: Error, Equatable {
        case timeout
        case closed
        case decodeError(String)
        case unexpected(String)
    }

    public let version: MQTTProtocolVersion
    let channel: any Channel
    private let inbox: Inbox

    /// Opens a TCP connection to `host:port`. Nothing is sent yet.
    public static func open(
        host: String = "127.0.0.1", port: Int, version: MQTTProtocolVersion = .v5,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TestMQTTClient {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundHandler(version: version, inbox: inbox))
                }
            }
            .connect(host: host, port: port).get()
        return TestMQTTClient(version: version, channel: channel, inbox: inbox)
    }

    private init(version: MQTTProtocolVersion, channel: any Channel, inbox: Inbox) {
        self.version = version
        self.channel = channel
        self.inbox = inbox
    }

    // MARK: - Sending

    public func send(_ packet: MQTTPacket) async throws {
        var buffer = channel.allocator.buffer(capacity: 128)
        try packet.encode(into: &buffer, version: version)
        try await channel.writeAndFlush(buffer)
    }

    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Closes the socket without DISCONNECT (an abnormal end: the Will applies).
    public func drop() async {
        try? await channel.close()
    }

    // MARK: - Receiving

    /// The next packet from the server.
    public func receive(timeout: Duration = .seconds(5)) async throws -> MQTTPacket {
        try await inbox.next(timeout: timeout, on: channel.eventLoop)
    }

    /// The next packet, which must not arrive within `timeout`; returns true when nothing came.
    public func receivesNothing(within timeout: Duration) async -> Bool {
        do {
            _ = try await inbox.next(timeout: timeout, on: channel.eventLoop)
            return false
        } catch {
            return (error as? Failure) == .timeout
        }
    }

    /// Waits until the server closes the connection, returning the packets it sent before closing.
    public func waitForClose(timeout: Duration = .seconds(5)) async throws -> [MQTTPacket] {
        var packets: [MQTTPacket] = []
        while true {
            do {
                packets.append(try await inbox.next(timeout: timeout, on: channel.eventLoop))
            } catch Failure.closed {
                return packets
            }
        }
    }

    public var isClosed: Bool { inbox.isClosed }

    // MARK: - Conveniences

    /// Sends CONNECT and returns the CONNACK.
    @discardableResult
    public func connect(
        clientID: String, cleanStart: Bool = true, keepAlive: UInt16 = 60, properties: MQTTProperties = [],
        will: MQTTWill? = nil, username: String? = nil, password: String? = nil
    ) async throws -> MQTTConnAck {
        try await send(.connect(MQTTConnect(
            protocolVersion: version, cleanStart: cleanStart, keepAlive: keepAlive, properties: properties,
            clientID: clientID, will: will, username: username,
            password: password.map { ByteBuffer(string: $0) })))
        guard case .connAck(let ack) = try await receive() else { throw Failure.unexpected("expected CONNACK") }
        return ack
    }

    @discardableResult
    public func subscribe(
        _ filter: String, qos: MQTTQoS = .atMostOnce, packetID: UInt16 = 1, options: MQTTSubscriptionOptions? = nil,
        identifier: UInt32? = nil
    ) async throws -> MQTTSubAck {
        var props = MQTTProperties()
        if let identifier { props.subscriptionIdentifiers = [identifier] }
        let opts = options ?? MQTTSubscriptionOptions(qos: qos)
        try await send(.subscribe(MQTTSubscribe(packetID: packetID, properties: props, subscriptions: [MQTTSubscription(topicFilter: filter, options: opts)])))
        while true {
            let p = try await receive()
            if case .subAck(let ack) = p { return ack }
            // Retained messages may race the SUBACK only after it; anything else first is a failure.
            throw Failure.unexpected("expected SUBACK, got \(p.type)")
        }
    }

    /// Publishes and, for QoS 1/2, completes the handshake, returning the PUBACK / PUBCOMP reason code.
    @discardableResult
    public func publish(
        _ topic: String, _ payload: String, qos: MQTTQoS = .atMostOnce, retain: Bool = false, packetID: UInt16 = 1,
        properties: MQTTProperties = []
    ) async throws -> MQTTReasonCode {
        try await send(.publish(MQTTPublish(
            topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain,
            packetID: qos == .atMostOnce ? nil : packetID, properties: properties)))
        switch qos {
        case .atMostOnce:
            return .success
        case .atLeastOnce:
            guard case .pubAck(let ack) = try await receive() else { throw Failure.unexpected("expected PUBACK") }
            return ack.reasonCode
        case .exactlyOnce:
            guard case .pubRec(let rec) = try await receive() else { throw Failure.unexpected("expected PUBREC") }
            if rec.reasonCode.isFailure { return rec.reasonCode }
            try await send(.pubRel(MQTTAck(packetID: packetID)))
            guard case .pubComp(let comp) = try await receive() else { throw Failure.unexpected("expected PUBCOMP") }
            return comp.reasonCode
        }
    }

    /// Receives the next PUBLISH (failing on anything else).
    public func receivePublish(timeout: Duration = .seconds(5)) async throws -> MQTTPublish {
        let p = try await receive(timeout: timeout)
        guard case .publish(let publish) = p else { throw Failure.unexpected("expected PUBLISH, got \(p.type)") }
        return publish
    }

    public func disconnect(_ reason: MQTTReasonCode = .normalDisconnection, properties: MQTTProperties = []) async throws {
        try await send(.disconnect(MQTTDisconnect(reasonCode: reason, properties: properties)))
        try? await channel.close()
    }
}

extension TestMQTTClient {
    /// Buffered events from the connection and at most one waiting receiver.
    final class Inbox: Sendable {
        enum Event: Sendable {
            case packet(MQTTPacket)
            case failure(Failure)
        }
        private struct State {
            var events: Deque<Event> = []
            var waiter: CheckedContinuation<MQTTPacket, any Error>?
            var waiterID = 0
            var closed = false
        }
        private let state = Mutex(State())

        var isClosed: Bool { state.withLock { $0.closed && $0.events.isEmpty } }

        func push(_ event: Event) {
            let resume: (CheckedContinuation<MQTTPacket, any Error>, Event)? = state.withLock { s in
                if case .failure(.closed) = event { s.closed = true }
                if let w = s.waiter {
                    s.waiter = nil
                    return (w, event)
                }
                s.events.append(event)
                return nil
            }
            if let (w, e) = resume {
                switch e {
                case .packet(let p): w.resume(returning: p)
                case .failure(let f): w.resume(throwing: f)
                }
            }
        }

        func next(timeout: Duration, on loop: any EventLoop) async throws -> MQTTPacket {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<MQTTPacket, any Error>) in
                let ready: Event?? = state.withLock { s in
                    if let e = s.events.popFirst() { return .some(e) }
                    if s.closed { return .some(.failure(.closed)) }
                    s.waiter = c
                    s.waiterID += 1
                    return .none
                }
                if let ready {
                    switch ready! {
                    case .packet(let p): c.resume(returning: p)
                    case .failure(let f): c.resume(throwing: f)
                    }
                    return
                }
                let id = state.withLock { $0.waiterID }
                let nanos = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
                loop.scheduleTask(in: .nanoseconds(nanos)) {
                    let timedOut: CheckedContinuation<MQTTPacket, any Error>? = self.state.withLock { s in
                        guard s.waiterID == id, let w = s.waiter else { return nil }
                        s.waiter = nil
                        return w
                    }
                    timedOut?.resume(throwing: Failure.timeout)
                }
            }
        }
    }

    final class InboundHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let version: MQTTProtocolVersion
        let inbox: Inbox
        var buffer: ByteBuffer?

        init(version: MQTTProtocolVersion, inbox: Inbox) {
            self.version = version
            self.inbox = inbox
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
            while var b = buffer, b.readableBytes > 0 {
                do {
                    let config = MQTTDecoderConfiguration(maximumPacketSize: MQTTDecoderConfiguration.protocolMaximumPacketSize, maximumUserProperties: 100_000)
                    guard let packet = try MQTTPacketDecoder.decode(from: &b, version: version, configuration: config) else { break }
                    buffer = b
                    inbox.push(.packet(packet))
                } catch {
                    inbox.push(.failure(.decodeError("\(error)")))
                    buffer = nil
                    context.close(promise: nil)
                    return
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            inbox.push(.failure(.closed))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
