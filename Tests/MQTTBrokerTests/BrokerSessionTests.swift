import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// Sessions, wills, takeover and restarts over real sockets against an in-process broker.
@Suite("Broker sessions", .timeLimit(.minutes(1)))
struct BrokerSessionTests {
    @Test("a second CONNECT with the same client id takes the session over: the first gets 0x8E")
    func takeover() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let first = try await h.client()
        try await first.connect(clientID: "dup", properties: [.sessionExpiryInterval(30)])
        try await first.subscribe("dup/t", qos: .atLeastOnce)
        let second = try await h.client()
        let ack = try await second.connect(clientID: "dup", cleanStart: false, properties: [.sessionExpiryInterval(30)])
        #expect(ack.sessionPresent)
        let last = try await first.waitForClose()
        #expect(last == [.disconnect(MQTTDisconnect(reasonCode: .sessionTakenOver))])
        // The subscription belongs to the session, so the new connection receives.
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish("dup/t", "after", qos: .atLeastOnce)
        #expect(String(buffer: try await second.receivePublish().payload) == "after")
    }

    @Test("3.1.1 takeover closes the first connection")
    func takeoverV3() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let first = try await h.client(.v3_1_1)
        try await first.connect(clientID: "dup3")
        let second = try await h.client(.v3_1_1)
        #expect(try await second.connect(clientID: "dup3").reasonCode == .success)
        #expect(try await first.waitForClose().isEmpty)
    }

    @Test("persistent session: queued QoS 1 messages and in-flight ones (with DUP) are delivered on reconnect")
    func persistentSessionQueue() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client(.v3_1_1)
        try await sub.connect(clientID: "p1", cleanStart: false)
        try await sub.subscribe("q/t", qos: .atLeastOnce)
        let pub = try await h.client(.v3_1_1)
        try await pub.connect(clientID: "pub")
        try await pub.publish("q/t", "inflight", qos: .atLeastOnce)
        let m = try await sub.receivePublish()
        #expect(!m.dup)
        await sub.drop()  // no PUBACK: the message stays in flight
        try await pub.publish("q/t", "queued", qos: .atLeastOnce)
        try await pub.publish("q/t", "qos0-not-kept", qos: .atMostOnce)
        try await Task.sleep(for: .milliseconds(100))
        let again = try await h.client(.v3_1_1)
        let ack = try await again.connect(clientID: "p1", cleanStart: false)
        #expect(ack.sessionPresent)
        let redelivered = try await again.receivePublish()
        #expect(redelivered.dup)
        #expect(redelivered.packetID == m.packetID)
        #expect(String(buffer: redelivered.payload) == "inflight")
        let queued = try await again.receivePublish()
        #expect(String(buffer: queued.payload) == "queued")
        #expect(await again.receivesNothing(within: .milliseconds(200)))
    }

    @Test("QoS 2 is delivered exactly once across a reconnect in the middle of the handshake")
    func qos2ExactlyOnce() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client()
        try await sub.connect(clientID: "q2", cleanStart: true, properties: [.sessionExpiryInterval(60)])
        try await sub.subscribe("q2/t", qos: .exactlyOnce)
        let pub = try await h.client()
        try await pub.connect(clientID: "q2pub")
        try await pub.publish("q2/t", "once", qos: .exactlyOnce)
        let m = try await sub.receivePublish()
        try await sub.send(.pubRec(MQTTAck(packetID: m.packetID!)))
        guard case .pubRel = try await sub.receive() else { Issue.record("expected PUBREL"); return }
        await sub.drop()  // PUBCOMP never sent
        let again = try await h.client()
        #expect(try await again.connect(clientID: "q2", cleanStart: false, properties: [.sessionExpiryInterval(60)]).sessionPresent)
        // Only the PUBREL is repeated, never the message. [MQTT-4.4.0-1]
        #expect(try await again.receive() == .pubRel(MQTTAck(packetID: m.packetID!)))
        try await again.send(.pubComp(MQTTAck(packetID: m.packetID!)))
        #expect(await again.receivesNothing(within: .milliseconds(200)))

        // Inbound: a retransmitted QoS 2 PUBLISH (same id, DUP) is not routed twice.
        try await pub.send(.publish(MQTTPublish(topic: "q2/t", payload: ByteBuffer(string: "dup"), qos: .exactlyOnce, packetID: 9)))
        #expect(try await pub.receive() == .pubRec(MQTTAck(packetID: 9)))
        try await pub.send(.publish(MQTTPublish(topic: "q2/t", payload: ByteBuffer(string: "dup"), qos: .exactlyOnce, dup: true, packetID: 9)))
        #expect(try await pub.receive() == .pubRec(MQTTAck(packetID: 9)))
        try await pub.send(.pubRel(MQTTAck(packetID: 9)))
        #expect(try await pub.receive() == .pubComp(MQTTAck(packetID: 9)))
        let once = try await again.receivePublish()
        #expect(String(buffer: once.payload) == "dup")
        try await again.send(.pubRec(MQTTAck(packetID: once.packetID!)))
        _ = try await again.receive()
        try await again.send(.pubComp(MQTTAck(packetID: once.packetID!)))
        #expect(await again.receivesNothing(within: .milliseconds(200)))
    }

    @Test("sessions, subscriptions, queued messages and retained messages survive a broker restart")
    func restart() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client()
        try await sub.connect(clientID: "keep", properties: [.sessionExpiryInterval(300)])
        try await sub.subscribe("keep/#", qos: .atLeastOnce, identifier: 5)
        try await sub.disconnect()
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish("keep/a", "while-offline", qos: .atLeastOnce)
        try await pub.publish("ret/a", "retained", qos: .atLeastOnce, retain: true)
        try await h.restart()
        let again = try await h.client()
        let ack = try await again.connect(clientID: "keep", cleanStart: false, properties: [.sessionExpiryInterval(300)])
        #expect(ack.sessionPresent)
        let m = try await again.receivePublish()
        #expect(String(buffer: m.payload) == "while-offline")
        #expect(m.properties.subscriptionIdentifiers == [5])
        try await again.send(.pubAck(MQTTAck(packetID: m.packetID!)))
        // The subscription itself survived.
        let pub2 = try await h.client()
        try await pub2.connect(clientID: "pub2")
        try await pub2.publish("keep/b", "live", qos: .atLeastOnce)
        #expect(String(buffer: try await again.receivePublish().payload) == "live")
        let late = try await h.client()
        try await late.connect(clientID: "late")
        try await late.subscribe("ret/#")
        #expect(String(buffer: try await late.receivePublish().payload) == "retained")
    }

    @Test("Will: published on abnormal close, not after a normal DISCONNECT, and on DISCONNECT 0x04")
    func will() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let watcher = try await h.client()
        try await watcher.connect(clientID: "watcher")
        try await watcher.subscribe("wills/#")
        let will = MQTTWill(topic: "wills/a", payload: ByteBuffer(string: "gone"), qos: .atMostOnce)
        let a = try await h.client()
        try await a.connect(clientID: "a", will: will)
        await a.drop()
        #expect(String(buffer: try await watcher.receivePublish().payload) == "gone")
        let b = try await h.client()
        try await b.connect(clientID: "b", will: will)
        try await b.disconnect()
        #expect(await watcher.receivesNothing(within: .milliseconds(300)))
        let c = try await h.client()
        try await c.connect(clientID: "c", will: will)
        try await c.disconnect(.disconnectWithWillMessage)
        #expect(String(buffer: try await watcher.receivePublish().payload) == "gone")
    }

    @Test("Will Delay: a reconnect within the delay cancels the Will; otherwise it is published after it")
    func willDelay() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let watcher = try await h.client()
        try await watcher.connect(clientID: "watcher")
        try await watcher.subscribe("wd/#")
        let will = MQTTWill(topic: "wd/x", payload: ByteBuffer(string: "late"), properties: [.willDelayInterval(3)])
        let x = try await h.client()
        try await x.connect(clientID: "x", properties: [.sessionExpiryInterval(60)], will: will)
        await x.drop()
        let back = try await h.client()
        try await back.connect(clientID: "x", cleanStart: false, properties: [.sessionExpiryInterval(60)])
        #expect(await watcher.receivesNothing(within: .milliseconds(3500)))
        let y = try await h.client()
        try await y.connect(clientID: "y", properties: [.sessionExpiryInterval(60)], will: MQTTWill(topic: "wd/y", payload: ByteBuffer(string: "y"), properties: [.willDelayInterval(1)]))
        let start = ContinuousClock.now
        await y.drop()
        let m = try await watcher.receivePublish(timeout: .seconds(3))
        #expect(m.topic == "wd/y")
        #expect(ContinuousClock.now - start >= .milliseconds(900))
    }

    @Test("session expiry: an expired session is gone at the next connect")
    func sessionExpiry() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "short", properties: [.sessionExpiryInterval(3)])
        try await c.subscribe("s/t")
        try await c.disconnect()
        let quick = try await h.client()
        #expect(try await quick.connect(clientID: "short", cleanStart: false, properties: [.sessionExpiryInterval(3)]).sessionPresent)
        try await quick.disconnect()
        try await Task.sleep(for: .milliseconds(3600))
        let late = try await h.client()
        #expect(try await late.connect(clientID: "short", cleanStart: false).sessionPresent == false)
    }
}
