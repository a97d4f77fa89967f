import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Synchronization
import Testing

/// The broker's hooks for protocol layers on top of MQTT (the Azure device protocol): publish
/// interception with deferred acknowledgements, refusals, and direct delivery to one client with
/// acknowledgement reports.
@Suite("Broker publish interception and direct delivery", .timeLimit(.minutes(1)))
struct BrokerInterceptorTests {
    /// Consumes topics under `held/` (acknowledged when the test releases them, in any order), refuses
    /// `refused/`, disconnects on `fatal/`, rewrites `rewrite/x` to `routed/x`, routes the rest.
    final class TestInterceptor: PublishInterceptor {
        let held = Mutex<[String: EventLoopPromise<Void>]>([:])
        func intercept(_ message: ApplicationMessage, from client: PublishingClient) -> PublishDisposition {
            if message.topic.hasPrefix("held/") {
                let promise = client.eventLoop.makePromise(of: Void.self)
                held.withLock { $0[message.topic] = promise }
                return .accept(route: nil, acknowledgeWhen: promise.futureResult)
            }
            if message.topic.hasPrefix("refused/") { return .refuse(.topicNameInvalid) }
            if message.topic.hasPrefix("fatal/") { return .disconnect(.protocolError) }
            if message.topic.hasPrefix("rewrite/") {
                var routed = message
                routed.topic = "routed/" + message.topic.dropFirst("rewrite/".count)
                return .accept(route: routed, acknowledgeWhen: nil)
            }
            return .route
        }
        func release(_ topic: String, failing: Bool = false) {
            let promise = held.withLock { $0.removeValue(forKey: topic) }
            if failing { promise?.fail(CancellationError()) } else { promise?.succeed() }
        }
        func isHeld(_ topic: String) -> Bool { held.withLock { $0[topic] != nil } }
    }

    struct InterceptingAuthenticator: BrokerAuthenticator {
        let interceptor: TestInterceptor
        func authenticate(_ request: ConnectRequest) async -> ConnectDecision { decideImmediately(request)! }
        func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? {
            .accept(ConnectGrant(
                authorizer: AllowAllAuthorizer(), maximumQoS: .exactlyOnce,
                interceptor: request.clientID.hasPrefix("plain") ? nil : interceptor))
        }
    }

    final class AckRecorder: BrokerObserver {
        let acks = Mutex<[String]>([])
        func clientConnected(clientID: String, grant: ConnectGrant) {}
        func clientDisconnected(clientID: String, grant: ConnectGrant) {}
        func messageAcknowledged(clientID: String, deliveryTag: UInt64) { acks.withLock { $0.append("\(clientID):\(deliveryTag)") } }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("a deferred acknowledgement waits for its future, and later ones queue behind it in order")
    func deferredAcknowledgementsKeepOrder() async throws {
        let interceptor = TestInterceptor()
        let h = BrokerHarness(authenticator: InterceptingAuthenticator(interceptor: interceptor))
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "dev")
        try await c.send(.publish(MQTTPublish(topic: "held/1", payload: ByteBuffer(string: "a"), qos: .atLeastOnce, retain: false, packetID: 1)))
        try await c.send(.publish(MQTTPublish(topic: "held/2", payload: ByteBuffer(string: "b"), qos: .atLeastOnce, retain: false, packetID: 2)))
        try await c.send(.publish(MQTTPublish(topic: "other/3", payload: ByteBuffer(string: "c"), qos: .atLeastOnce, retain: false, packetID: 3)))
        try await waitUntil { interceptor.isHeld("held/2") }
        #expect(await c.receivesNothing(within: .milliseconds(150)), "nothing is acknowledged before the first store completes")
        interceptor.release("held/2")
        #expect(await c.receivesNothing(within: .milliseconds(150)), "the second waits for the first")
        interceptor.release("held/1")
        var ids: [UInt16] = []
        for _ in 0..<3 {
            guard case .pubAck(let ack) = try await c.receive() else { Issue.record("expected PUBACK"); return }
            ids.append(ack.packetID)
        }
        #expect(ids == [1, 2, 3])
    }

    /// Regression: the connection used to stay open, and a client (which resends an unacknowledged
    /// PUBLISH only after reconnecting) then waited forever with its in-flight window full, e.g. after
    /// the event log's disk filled and was freed again.
    @Test("a failed store withholds the acknowledgement, counts it and closes the connection (5.0: 0x89)", arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func failedStoreClosesTheConnection(version: MQTTProtocolVersion) async throws {
        let interceptor = TestInterceptor()
        let h = BrokerHarness(authenticator: InterceptingAuthenticator(interceptor: interceptor))
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client(version)
        try await c.connect(clientID: "dev")
        try await c.send(.publish(MQTTPublish(topic: "held/x", payload: ByteBuffer(string: "a"), qos: .atLeastOnce, retain: false, packetID: 7)))
        try await c.send(.publish(MQTTPublish(topic: "held/y", payload: ByteBuffer(string: "b"), qos: .atLeastOnce, retain: false, packetID: 8)))
        try await waitUntil { interceptor.isHeld("held/y") }
        interceptor.release("held/y")
        interceptor.release("held/x", failing: true)
        let expected: [MQTTPacket] = version == .v5 ? [.disconnect(MQTTDisconnect(reasonCode: .serverBusy))] : []
        #expect(try await c.waitForClose() == expected, "no PUBACK for either: the stored one waits behind the failed one")
        #expect(h.broker.statistics.snapshot().acknowledgementsWithheld == 1)
        // The client reconnects and resends; this time the store succeeds.
        let again = try await h.client(version)
        try await again.connect(clientID: "dev", cleanStart: false)
        try await again.send(.publish(MQTTPublish(topic: "held/x", payload: ByteBuffer(string: "a"), qos: .atLeastOnce, retain: false, dup: true, packetID: 7)))
        try await waitUntil { interceptor.isHeld("held/x") }
        interceptor.release("held/x")
        guard case .pubAck(let ack) = try await again.receive() else { Issue.record("expected PUBACK"); return }
        #expect(ack.packetID == 7)
    }

    @Test("refusals answer like a missing right (5.0 PUBACK code, 3.1.1 close); disconnect closes with the code")
    func refusals() async throws {
        let h = BrokerHarness(authenticator: InterceptingAuthenticator(interceptor: TestInterceptor()))
        try await h.start()
        defer { Task { await h.shutdown() } }
        let v5 = try await h.client()
        try await v5.connect(clientID: "dev5")
        #expect(try await v5.publish("refused/a", "x", qos: .atLeastOnce) == .topicNameInvalid)
        try await v5.send(.publish(MQTTPublish(topic: "fatal/a", payload: ByteBuffer(string: "x"), qos: .atMostOnce, retain: false, packetID: nil)))
        #expect(try await v5.waitForClose() == [.disconnect(MQTTDisconnect(reasonCode: .protocolError))])
        let v3 = try await h.client(.v3_1_1)
        try await v3.connect(clientID: "dev3")
        try await v3.send(.publish(MQTTPublish(topic: "refused/a", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, retain: false, packetID: 1)))
        #expect(try await v3.waitForClose().isEmpty)
    }

    @Test("an accepted message can be routed under another topic")
    func rewrittenRoute() async throws {
        let h = BrokerHarness(authenticator: InterceptingAuthenticator(interceptor: TestInterceptor()))
        try await h.start()
        defer { Task { await h.shutdown() } }
        let watcher = try await h.client()
        try await watcher.connect(clientID: "plain-watcher")
        try await watcher.subscribe("#", qos: .atLeastOnce)
        let c = try await h.client()
        try await c.connect(clientID: "dev")
        #expect(try await c.publish("rewrite/t", "payload", qos: .atLeastOnce) == .success)
        let seen = try await watcher.receivePublish()
        #expect(seen.topic == "routed/t")
    }

    @Test("direct delivery reaches only the named client, honours the subscription requirement, and reports its PUBACK")
    func directDelivery() async throws {
        let recorder = AckRecorder()
        let h = BrokerHarness(authenticator: InterceptingAuthenticator(interceptor: TestInterceptor()), observer: recorder)
        try await h.start()
        defer { Task { await h.shutdown() } }
        let other = try await h.client()
        try await other.connect(clientID: "plain-other")
        try await other.subscribe("#", qos: .atLeastOnce)
        let device = try await h.client(.v3_1_1)
        try await device.connect(clientID: "dev", cleanStart: false)
        let reply = ApplicationMessage(topic: "$iothub/twin/res/200/?$rid=1", payload: ByteBuffer(string: "{}"), qos: .atMostOnce, retain: false)
        #expect(h.broker.deliver(reply, toClient: "dev", requiringSubscription: false) == .queued)
        #expect(try await device.receivePublish().topic == "$iothub/twin/res/200/?$rid=1")
        let c2d = ApplicationMessage(
            topic: "devices/dev/messages/devicebound/a=1", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, retain: false,
            deliveryTag: 42)
        #expect(h.broker.deliver(c2d, toClient: "dev", requiringSubscription: true) == .notSubscribed)
        #expect(h.broker.deliver(c2d, toClient: "nobody", requiringSubscription: false) == .notConnected)
        try await device.subscribe("devices/dev/messages/devicebound/#", qos: .atLeastOnce)
        #expect(h.broker.isSubscribed(clientID: "dev", to: c2d.topic))
        #expect(h.broker.deliver(c2d, toClient: "dev", requiringSubscription: true) == .queued)
        let got = try await device.receivePublish()
        #expect(got.topic == c2d.topic && got.qos == .atLeastOnce)
        #expect(recorder.acks.withLock { $0 }.isEmpty)
        try await device.send(.pubAck(MQTTAck(packetID: got.packetID!)))
        try await waitUntil { !recorder.acks.withLock { $0 }.isEmpty }
        #expect(recorder.acks.withLock { $0 } == ["dev:42"])
        #expect(await other.receivesNothing(within: .milliseconds(150)), "direct deliveries are not routed to subscribers")
    }
}
