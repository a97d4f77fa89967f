import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// Limits, timers and malformed input over real sockets against an in-process broker.
@Suite("Broker limits and abuse", .timeLimit(.minutes(1)))
struct BrokerLimitTests {
    func harness(_ configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> BrokerHarness {
        var c = BrokerHarness.defaultConfiguration()
        configure(&c)
        let h = BrokerHarness(configuration: c)
        try await h.start()
        return h
    }

    @Test("keep-alive: silence for 1.5 × keep-alive closes with 0x8D (5.0) or plainly (3.1.1)", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func keepAlive(version: MQTTProtocolVersion) async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client(version)
        let start = ContinuousClock.now  // before CONNECT: the server's clock starts when it reads it
        try await c.connect(clientID: "ka", keepAlive: 1)
        let last = try await c.waitForClose(timeout: .seconds(4))
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(1500) && elapsed < .milliseconds(4000))
        #expect(last == (version == .v5 ? [.disconnect(MQTTDisconnect(reasonCode: .keepAliveTimeout))] : []))
    }

    @Test("keep-alive: PINGREQ keeps the connection alive")
    func ping() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "ping", keepAlive: 2)
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(600))
            try await c.send(.pingReq)
            #expect(try await c.receive() == .pingResp)
        }
    }

    @Test("CONNECT deadline: a silent socket and a trickling CONNECT are closed (M38)")
    func connectDeadline() async throws {
        let h = try await harness { $0.connectTimeoutSeconds = 1 }
        defer { Task { await h.shutdown() } }
        let silent = try await h.client()
        let trickle = try await h.client()
        try await trickle.sendRaw([0x10, 0x10])
        #expect(try await silent.waitForClose(timeout: .seconds(4)).isEmpty)
        #expect(try await trickle.waitForClose(timeout: .seconds(4)).isEmpty)
    }

    @Test("a first packet other than CONNECT is dropped without an answer (M4)", arguments: [[UInt8]([0x40, 0x02, 0x00, 0x01]), [0xC0, 0x00], [0x30, 0x03, 0x00, 0x01, 0x61]])
    func firstPacketNotConnect(bytes: [UInt8]) async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.sendRaw(bytes)
        #expect(try await c.waitForClose().isEmpty)
    }

    @Test("a PUBLISH over the maximum packet size gets DISCONNECT 0x95 as soon as its header is read (M2)")
    func packetTooLarge() async throws {
        let h = try await harness { $0.maximumPacketSize = 1024 }
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        let ack = try await c.connect(clientID: "big")
        #expect(ack.properties.maximumPacketSize == 1024)
        // Header claims 268,435,455 bytes; only the header is sent.
        try await c.sendRaw([0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 0x61])
        #expect(try await c.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .packetTooLarge))])
    }

    @Test("an unsupported protocol level gets CONNACK 0x01 (3.1.1 form) or 0x84 (level 5 with a bad name) (M6)")
    func unsupportedProtocol() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let v3 = try await h.client(.v3_1_1)
        // CONNECT, name "MQTT", level 6.
        try await v3.sendRaw([0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3C, 0x00, 0x01, 0x61])
        #expect(try await v3.waitForClose() == [.connAck(MQTTConnAck(reasonCode: .unsupportedProtocolVersion))])
        let v5 = try await h.client(.v5)
        // CONNECT, name "MQTX", level 5.
        try await v5.sendRaw([0x10, 0x0E, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x58, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x01, 0x61])
        #expect(try await v5.waitForClose() == [.connAck(MQTTConnAck(reasonCode: .unsupportedProtocolVersion))])
    }

    @Test("protocol errors after CONNECT: second CONNECT, server-only packets, AUTH (M5, M34, M42)")
    func protocolErrors() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let cases: [MQTTPacket] = [
            .connect(MQTTConnect(clientID: "again")),
            .connAck(MQTTConnAck()),
            .pingResp,
            .auth(MQTTAuth(reasonCode: .continueAuthentication)),
        ]
        for (i, packet) in cases.enumerated() {
            let c = try await h.client()
            try await c.connect(clientID: "pe\(i)")
            try await c.send(packet)
            #expect(try await c.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .protocolError))])
        }
    }

    @Test("invalid filters get SUBACK 0x8F and are never stored (M21, M25); a later PUBLISH is harmless")
    func invalidFilters() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "filters")
        let bad = ["a/#/b", "a+", "#a", "$share/ab", "$share//t", "$share/g/", String(repeating: "/", count: 65_000)]
        try await c.send(.subscribe(MQTTSubscribe(packetID: 3, subscriptions: bad.map { MQTTSubscription(topicFilter: $0) })))
        guard case .subAck(let ack) = try await c.receive() else { Issue.record("expected SUBACK"); return }
        #expect(ack.reasonCodes == Array(repeating: .topicFilterInvalid, count: bad.count))
        try await c.publish("ab", "x", qos: .atLeastOnce)
        #expect(await c.receivesNothing(within: .milliseconds(100)))
        let v3 = try await h.client(.v3_1_1)
        try await v3.connect(clientID: "filters3")
        #expect(try await v3.subscribe("a/#/b").reasonCodes == [MQTTReasonCode(0x80)])
    }

    @Test("No Local on a shared subscription is a protocol error (M26)")
    func sharedNoLocal() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "snl")
        try await c.send(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [MQTTSubscription(topicFilter: "$share/g/t", options: MQTTSubscriptionOptions(noLocal: true))])))
        #expect(try await c.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .protocolError))])
    }

    @Test("a QoS 2 publish by a client limited to QoS 1 gets 0x9B; wildcards in a topic get PUBACK 0x90 (M15, M18)")
    func publishRefusals() async throws {
        let h = try await harness { $0.maximumQoS = .atLeastOnce }
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        let ack = try await c.connect(clientID: "q1only")
        #expect(ack.properties.maximumQoS == 1)
        try await c.send(.publish(MQTTPublish(topic: "a/+", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 4)))
        #expect(try await c.receive() == .pubAck(MQTTAck(packetID: 4, reasonCode: .topicNameInvalid)))
        try await c.send(.publish(MQTTPublish(topic: "a", payload: ByteBuffer(), qos: .exactlyOnce, packetID: 5)))
        #expect(try await c.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .qosNotSupported))])
    }

    @Test("raising Session Expiry from 0 at DISCONNECT is a protocol error (M43)")
    func disconnectExpiry() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "m43")
        try await c.send(.disconnect(MQTTDisconnect(properties: [.sessionExpiryInterval(10)])))
        #expect(try await c.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .protocolError))])
    }

    @Test("empty client id: assigned in 5.0, refused with 0x02 in 3.1.1 without clean session (M11)")
    func emptyClientID() async throws {
        let h = try await harness()
        defer { Task { await h.shutdown() } }
        let v5 = try await h.client()
        let ack = try await v5.connect(clientID: "")
        #expect(ack.reasonCode == .success)
        #expect(ack.properties.assignedClientIdentifier?.isEmpty == false)
        let v3 = try await h.client(.v3_1_1)
        try await v3.send(.connect(MQTTConnect(protocolVersion: .v3_1_1, cleanStart: false, clientID: "")))
        #expect(try await v3.waitForClose() == [.connAck(MQTTConnAck(reasonCode: .clientIdentifierNotValid))])
        let wild = try await h.client()
        try await wild.send(.connect(MQTTConnect(clientID: "a+b")))
        #expect(try await wild.waitForClose() == [.connAck(MQTTConnAck(reasonCode: .clientIdentifierNotValid))])
    }

    @Test("connections over the limit get CONNACK 0x89 Server busy")
    func connectionLimit() async throws {
        let h = try await harness { $0.maximumConnections = 2 }
        defer { Task { await h.shutdown() } }
        let a = try await h.client()
        try await a.connect(clientID: "a")
        let b = try await h.client()
        try await b.connect(clientID: "b")
        let c = try await h.client()
        try await c.send(.connect(MQTTConnect(clientID: "c")))
        #expect(try await c.waitForClose() == [.connAck(MQTTConnAck(reasonCode: .serverBusy))])
        await a.drop()
        try await Task.sleep(for: .milliseconds(100))
        let d = try await h.client()
        #expect(try await d.connect(clientID: "d").reasonCode == .success)
    }

    @Test("subscriptions beyond the per-session cap get 0x97")
    func subscriptionCap() async throws {
        let h = try await harness { $0.maximumSubscriptionsPerSession = 2 }
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "cap")
        try await c.send(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: ["a", "b", "c"].map { MQTTSubscription(topicFilter: $0) })))
        #expect(try await c.receive() == .subAck(MQTTSubAck(packetID: 1, reasonCodes: [.grantedQoS0, .grantedQoS0, .quotaExceeded])))
        // Re-subscribing to an existing filter replaces it and is not refused.
        #expect(try await c.subscribe("a", qos: .atLeastOnce).reasonCodes == [.grantedQoS1])
    }

    @Test("backpressure: a QoS 1 flood to a subscriber that stops acknowledging pauses the publisher and loses nothing")
    func backpressure() async throws {
        let h = try await harness {
            $0.maximumQueuedMessages = 50
        }
        defer { Task { await h.shutdown() } }
        let sub = try await h.client(.v3_1_1)  // 3.1.1: in-flight window 100 (defaultOutboundInflight)
        try await sub.connect(clientID: "slow")
        try await sub.subscribe("flood", qos: .atLeastOnce)
        let pub = try await h.client(.v3_1_1)
        try await pub.connect(clientID: "fast")
        // Publish 400 QoS 1 messages without waiting for PUBACKs.
        let total = 400
        for i in 1...total {
            try await pub.send(.publish(MQTTPublish(topic: "flood", payload: ByteBuffer(string: "\(i)"), qos: .atLeastOnce, packetID: UInt16(i))))
        }
        // The subscriber gets its window (100) and no more until it acknowledges.
        var received: [String] = []
        while let m = try? await sub.receivePublish(timeout: .milliseconds(300)) { received.append(String(buffer: m.payload)) }
        #expect(received.count == 100)
        var pubAcks = 0
        while let p = try? await pub.receive(timeout: .milliseconds(100)) { if case .pubAck = p { pubAcks += 1 } }
        #expect(pubAcks < total)  // the publisher was paused: not everything was read and acknowledged
        #expect(h.broker.statistics.snapshot().publishersPaused > 0)
        // Now acknowledge everything as it comes: all messages arrive, in order, none lost.
        var expected = 101
        var ids: [UInt16] = []
        try await sub.send(.pubAck(MQTTAck(packetID: 1)))
        for id in 2...100 { try await sub.send(.pubAck(MQTTAck(packetID: UInt16(id)))) }
        while expected <= total {
            let m = try await sub.receivePublish(timeout: .seconds(3))
            #expect(String(buffer: m.payload) == "\(expected)")
            expected += 1
            ids.append(m.packetID!)
            try await sub.send(.pubAck(MQTTAck(packetID: m.packetID!)))
        }
        #expect(h.broker.statistics.snapshot().messagesDropped == 0)
    }

    @Test("a publisher paused by a stalled subscriber resumes when that subscriber disconnects")
    func pausedPublisherResumesOnSubscriberLoss() async throws {
        let h = try await harness { $0.maximumQueuedMessages = 20 }
        defer { Task { await h.shutdown() } }
        let sub = try await h.client(.v3_1_1)
        try await sub.connect(clientID: "stalled")
        try await sub.subscribe("flood", qos: .atLeastOnce)
        let pub = try await h.client(.v3_1_1)
        try await pub.connect(clientID: "pub")
        let total = 300
        for i in 1...total {
            try await pub.send(.publish(MQTTPublish(topic: "flood", payload: ByteBuffer(string: "\(i)"), qos: .atLeastOnce, packetID: UInt16(i))))
        }
        var acks = 0
        while let p = try? await pub.receive(timeout: .milliseconds(300)) { if case .pubAck = p { acks += 1 } }
        #expect(acks < total)
        #expect(h.broker.statistics.snapshot().publishersPaused > 0)
        await sub.drop()  // clean session: it ends, and nobody will drain its queue
        while acks < total, let p = try? await pub.receive(timeout: .seconds(3)) { if case .pubAck = p { acks += 1 } }
        #expect(acks == total)
    }
}
