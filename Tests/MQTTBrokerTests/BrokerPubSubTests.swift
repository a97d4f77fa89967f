import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// Publish/subscribe behaviour over real sockets against an in-process broker.
@Suite("Broker publish/subscribe", .timeLimit(.minutes(1)))
struct BrokerPubSubTests {
    @Test("QoS 0, 1 and 2 messages reach a wildcard subscriber, for 3.1.1 and 5.0", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func basicDelivery(version: MQTTProtocolVersion) async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client(version)
        #expect(try await sub.connect(clientID: "sub").reasonCode == .success)
        let ack = try await sub.subscribe("sensors/+/temp", qos: .exactlyOnce)
        #expect(ack.reasonCodes == [.grantedQoS2])
        let pub = try await h.client(version)
        try await pub.connect(clientID: "pub")
        for qos in MQTTQoS.allCases {
            let code = try await pub.publish("sensors/a/temp", "q\(qos.rawValue)", qos: qos, packetID: 7)
            #expect(code == .success)
            let got = try await sub.receivePublish()
            #expect(got.topic == "sensors/a/temp")
            #expect(String(buffer: got.payload) == "q\(qos.rawValue)")
            #expect(got.qos == qos)
            if qos == .atLeastOnce { try await sub.send(.pubAck(MQTTAck(packetID: got.packetID!))) }
            if qos == .exactlyOnce {
                try await sub.send(.pubRec(MQTTAck(packetID: got.packetID!)))
                guard case .pubRel(let rel) = try await sub.receive() else { Issue.record("expected PUBREL"); return }
                try await sub.send(.pubComp(MQTTAck(packetID: rel.packetID)))
            }
        }
        try await pub.publish("sensors/a/humidity", "no", qos: .atMostOnce)
        #expect(await sub.receivesNothing(within: .milliseconds(200)))
    }

    @Test("topics starting with $ are not matched by leading wildcards")
    func dollarTopics() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let all = try await h.client()
        try await all.connect(clientID: "all")
        try await all.subscribe("#")
        let plus = try await h.client()
        try await plus.connect(clientID: "plus")
        try await plus.subscribe("+/x")
        let dollar = try await h.client()
        try await dollar.connect(clientID: "dollar")
        try await dollar.subscribe("$app/#")
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish("$app/x", "hidden")
        #expect(String(buffer: try await dollar.receivePublish().payload) == "hidden")
        #expect(await all.receivesNothing(within: .milliseconds(200)))
        #expect(await plus.receivesNothing(within: .milliseconds(50)))
        try await pub.publish("a/x", "visible")
        #expect(try await all.receivePublish().topic == "a/x")
        #expect(try await plus.receivePublish().topic == "a/x")
    }

    @Test("retained messages: delivered on subscribe, replaced, cleared by an empty payload")
    func retained() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish("r/1", "first", qos: .atLeastOnce, retain: true)
        try await pub.publish("r/1", "second", qos: .atLeastOnce, retain: true)
        try await pub.publish("r/2", "other", qos: .atLeastOnce, retain: true)
        try await pub.publish("r/2", "", qos: .atLeastOnce, retain: true)
        let sub = try await h.client()
        try await sub.connect(clientID: "sub")
        try await sub.subscribe("r/#", qos: .atLeastOnce)
        let m = try await sub.receivePublish()
        #expect(String(buffer: m.payload) == "second")
        #expect(m.retain)
        #expect(await sub.receivesNothing(within: .milliseconds(200)))
        // A live retained publish reaches existing subscribers with RETAIN cleared (no Retain As Published).
        try await pub.publish("r/1", "third", qos: .atMostOnce, retain: true)
        let live = try await sub.receivePublish()
        #expect(!live.retain)
    }

    @Test("No Local, Retain As Published, Retain Handling 2 and subscription identifiers")
    func subscriptionOptions() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "self")
        try await c.publish("opt/t", "kept", retain: true)
        try await c.subscribe("opt/t", options: MQTTSubscriptionOptions(qos: .atMostOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend), identifier: 42)
        #expect(await c.receivesNothing(within: .milliseconds(150)))  // handling 2: no retained
        try await c.publish("opt/t", "mine")
        #expect(await c.receivesNothing(within: .milliseconds(150)))  // no local
        let other = try await h.client()
        try await other.connect(clientID: "other")
        try await other.publish("opt/t", "theirs", retain: true)
        let m = try await c.receivePublish()
        #expect(String(buffer: m.payload) == "theirs")
        #expect(m.retain)  // retain as published
        #expect(m.properties.subscriptionIdentifiers == [42])
    }

    @Test("shared subscription: each message goes to exactly one member")
    func sharedSubscription() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let a = try await h.client()
        try await a.connect(clientID: "a")
        try await a.subscribe("$share/g/jobs/#")
        let b = try await h.client()
        try await b.connect(clientID: "b")
        try await b.subscribe("$share/g/jobs/#")
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        for i in 0..<10 { try await pub.publish("jobs/\(i)", "\(i)") }
        var got: [String] = []
        for client in [a, b] {
            while let m = try? await client.receivePublish(timeout: .milliseconds(300)) { got.append(String(buffer: m.payload)) }
        }
        #expect(got.sorted() == (0..<10).map(String.init).sorted())
    }

    @Test("topic alias: the subscriber receives the full topic")
    func topicAlias() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client()
        try await sub.connect(clientID: "sub")
        try await sub.subscribe("alias/#")
        let pub = try await h.client()
        let ack = try await pub.connect(clientID: "pub")
        #expect(ack.properties.topicAliasMaximum == 10)
        try await pub.publish("alias/long/topic", "1", properties: [.topicAlias(3)])
        try await pub.publish("", "2", properties: [.topicAlias(3)])
        #expect(try await sub.receivePublish().topic == "alias/long/topic")
        let second = try await sub.receivePublish()
        #expect(second.topic == "alias/long/topic")
        #expect(String(buffer: second.payload) == "2")
        // Alias above the maximum: DISCONNECT 0x94.
        try await pub.send(.publish(MQTTPublish(topic: "x", payload: ByteBuffer(), properties: [.topicAlias(11)])))
        let closing = try await pub.waitForClose()
        #expect(closing.last == .disconnect(MQTTDisconnect(reasonCode: .topicAliasInvalid)))
    }

    @Test("message expiry: a queued message expires while the subscriber is offline")
    func messageExpiry() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let sub = try await h.client()
        try await sub.connect(clientID: "exp", cleanStart: true, properties: [.sessionExpiryInterval(60)])
        try await sub.subscribe("exp/t", qos: .atLeastOnce)
        try await sub.disconnect()
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish("exp/t", "short", qos: .atLeastOnce, packetID: 1, properties: [.messageExpiryInterval(1)])
        try await pub.publish("exp/t", "long", qos: .atLeastOnce, packetID: 2, properties: [.messageExpiryInterval(100)])
        try await Task.sleep(for: .milliseconds(1300))
        let again = try await h.client()
        let ack = try await again.connect(clientID: "exp", cleanStart: false, properties: [.sessionExpiryInterval(60)])
        #expect(ack.sessionPresent)
        let m = try await again.receivePublish()
        #expect(String(buffer: m.payload) == "long")
        let left = try #require(m.properties.messageExpiryInterval)
        #expect(left <= 100 && left >= 98)
        #expect(await again.receivesNothing(within: .milliseconds(200)))
    }
}

/// MQTT compares identifiers and topics byte for byte; Swift's String equality is Unicode-aware.
@Suite("Byte-exact names", .timeLimit(.minutes(1)))
struct ByteExactNameTests {
    @Test("canonically equivalent topics are different topics")
    func topics() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let sub = try await h.client()
        try await sub.connect(clientID: "sub")
        try await sub.subscribe(composed)
        let pub = try await h.client()
        try await pub.connect(clientID: "pub")
        try await pub.publish(decomposed, "other topic")
        #expect(await sub.receivesNothing(within: .milliseconds(200)))
        try await pub.publish(composed, "same topic")
        #expect(try await sub.receivePublish().topic.utf8.elementsEqual(composed.utf8))
    }

    @Test("canonically equivalent client identifiers are different sessions (no takeover)")
    func clientIDs() async throws {
        let h = BrokerHarness()
        try await h.start()
        defer { Task { await h.shutdown() } }
        let a = try await h.client()
        try await a.connect(clientID: "dev\u{E9}")
        let b = try await h.client()
        let ack = try await b.connect(clientID: "deve\u{301}", cleanStart: false)
        #expect(!ack.sessionPresent)
        #expect(await a.receivesNothing(within: .milliseconds(200)))
        #expect(!a.isClosed)
    }
}
