@testable import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// Timers and handoffs driven by a test clock (EmbeddedEventLoop): no sleeping, exact boundaries.
@Suite("Connection timers with a test clock")
struct ConnectionTimerTests {
    @Test("keep-alive 10 s: still open at 14.9 s of silence, DISCONNECT 0x8D at 15 s")
    func keepAliveBoundary() throws {
        let b = EmbeddedBroker()
        let c = try b.connection()
        #expect(try c.connect("ka", keepAlive: 10)?.reasonCode == .success)
        b.advance(by: .milliseconds(14_900))
        #expect(c.isActive)
        try c.send(.pingReq)  // activity restarts the clock
        #expect(try c.received() == [.pingResp])
        b.advance(by: .milliseconds(14_900))
        #expect(c.isActive)
        b.advance(by: .milliseconds(200))
        #expect(try c.received() == [.disconnect(MQTTDisconnect(reasonCode: .keepAliveTimeout))])
        #expect(!c.isActive)
    }

    @Test("keep-alive above the server maximum is lowered and announced as Server Keep Alive")
    func serverKeepAlive() throws {
        let b = EmbeddedBroker { $0.maximumKeepAlive = 30 }
        let c = try b.connection()
        let ack = try #require(try c.connect("ska", keepAlive: 600))
        #expect(ack.properties.serverKeepAlive == 30)
        b.advance(by: .seconds(46))
        #expect(!c.isActive)
    }

    @Test("CONNECT deadline: closed at the configured timeout without a CONNECT")
    func connectDeadline() throws {
        let b = EmbeddedBroker { $0.connectTimeoutSeconds = 10 }
        let c = try b.connection()
        b.advance(by: .milliseconds(9_990))
        #expect(c.isActive)
        b.advance(by: .milliseconds(20))
        #expect(!c.isActive)
        #expect(try c.received().isEmpty)
    }

    @Test("Will Delay 30 s with session expiry 10 s: the Will is published when the session ends, at 10 s")
    func willDelayCappedBySessionExpiry() throws {
        let b = EmbeddedBroker()
        let watcher = try b.connection()
        try watcher.connect("watcher")
        try watcher.send(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [MQTTSubscription(topicFilter: "w")])))
        _ = try watcher.received()
        let dying = try b.connection()
        try dying.connect("dying", properties: [.sessionExpiryInterval(10)], will: MQTTWill(topic: "w", payload: ByteBuffer(string: "bye"), properties: [.willDelayInterval(30)]))
        dying.drop()
        b.advance(by: .milliseconds(9_900))
        #expect(try watcher.received().isEmpty)
        b.advance(by: .milliseconds(200))
        let got = try watcher.received()
        #expect(got.count == 1)
        if case .publish(let p) = got.first { #expect(String(buffer: p.payload) == "bye") } else { Issue.record("expected the Will") }
    }

    @Test("session expiry: kept for 59.9 s after disconnect, gone at 60 s")
    func sessionExpiry() throws {
        let b = EmbeddedBroker()
        let c = try b.connection()
        try c.connect("exp", properties: [.sessionExpiryInterval(60)])
        try c.send(.disconnect(MQTTDisconnect()))
        b.advance(by: .milliseconds(59_900))
        #expect(b.core.sessions.withLock { $0[ByteString("exp")] } != nil)
        b.advance(by: .milliseconds(200))
        #expect(b.core.sessions.withLock { $0[ByteString("exp")] } == nil)
    }

    @Test("takeover: the old connection gets 0x8E, the new one resumes the session and its in-flight messages")
    func takeoverHandsOverInflight() throws {
        let b = EmbeddedBroker()
        let first = try b.connection()
        try first.connect("dev", properties: [.sessionExpiryInterval(100)])
        try first.send(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [MQTTSubscription(topicFilter: "t", options: .init(qos: .atLeastOnce))])))
        _ = try first.received()
        let pub = try b.connection()
        try pub.connect("pub")
        try pub.send(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, packetID: 1)))
        guard case .publish(let delivered) = try first.received().first else { Issue.record("expected delivery"); return }
        let second = try b.connection()
        let ack = try #require(try second.connect("dev", cleanStart: false, properties: [.sessionExpiryInterval(100)]))
        #expect(try first.received() == [.disconnect(MQTTDisconnect(reasonCode: .sessionTakenOver))])
        #expect(!first.isActive)
        #expect(ack.sessionPresent)
        let redelivered = try second.received()
        #expect(redelivered.count == 1)
        if case .publish(let p) = redelivered.first {
            #expect(p.dup && p.packetID == delivered.packetID)
        }
    }

    @Test("in-flight window: a 5.0 client with Receive Maximum 2 gets two QoS 1 messages until it acknowledges")
    func inflightWindow() throws {
        let b = EmbeddedBroker()
        let sub = try b.connection()
        try sub.connect("win", properties: [.receiveMaximum(2)])
        try sub.send(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [MQTTSubscription(topicFilter: "t", options: .init(qos: .atLeastOnce))])))
        _ = try sub.received()
        let pub = try b.connection()
        try pub.connect("pub")
        for i in 1...5 { try pub.send(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(string: "\(i)"), qos: .atLeastOnce, packetID: UInt16(i)))) }
        var got = try sub.received()
        #expect(got.count == 2)
        try sub.send(.pubAck(MQTTAck(packetID: { if case .publish(let p) = got[0] { return p.packetID! } else { return 0 } }())))
        got = try sub.received()
        #expect(got.count == 1)
        if case .publish(let p) = got.first { #expect(String(buffer: p.payload) == "3") }
    }
}

