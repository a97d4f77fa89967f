import HubTestKit
import MQTTBroker
import MQTTCodec
import NIOCore
import Synchronization
import Testing

/// The broker's hooks for the hub's security layer: grants with expiry, revalidation, observers,
/// admission (IP filter) and the CONNECT rate limit.
@Suite("Broker security hooks", .timeLimit(.minutes(1)))
struct BrokerSecurityHooksTests {
    /// Accepts every client with a grant whose context is its client id, valid for `validFor`.
    struct GrantingAuthenticator: BrokerAuthenticator {
        var validFor: Duration?
        func authenticate(_ request: ConnectRequest) async -> ConnectDecision { decideImmediately(request)! }
        func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? {
            if request.clientID.hasPrefix("refused") { return .reject(.badUserNameOrPassword) }
            return .accept(ConnectGrant(
                authorizer: AllowAllAuthorizer(), maximumQoS: .atLeastOnce, validFor: validFor,
                principal: "test \(request.clientID)", context: request.clientID))
        }
    }

    final class RecordingObserver: BrokerObserver {
        let events = Mutex<[String]>([])
        func clientConnected(clientID: String, grant: ConnectGrant) { events.withLock { $0.append("+\(clientID)") } }
        func clientDisconnected(clientID: String, grant: ConnectGrant) { events.withLock { $0.append("-\(clientID)") } }
    }

    @Test("a credential's validity ends the connection with 0xA0 when it expires")
    func credentialExpiry() async throws {
        let h = BrokerHarness(authenticator: GrantingAuthenticator(validFor: .milliseconds(800)))
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        let start = ContinuousClock.now
        try await c.connect(clientID: "short-lived", keepAlive: 0)
        #expect(try await c.waitForClose(timeout: .seconds(3)) == [.disconnect(MQTTDisconnect(reasonCode: .maximumConnectTime))])
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(800) && elapsed < .milliseconds(3500))
    }

    @Test("revalidation disconnects exactly the connections the check refuses")
    func revalidation() async throws {
        let h = BrokerHarness(authenticator: GrantingAuthenticator())
        try await h.start()
        defer { Task { await h.shutdown() } }
        let a = try await h.client()
        try await a.connect(clientID: "dev-a")
        let b = try await h.client(.v3_1_1)
        try await b.connect(clientID: "dev-b")
        let c = try await h.client()
        try await c.connect(clientID: "dev-c")
        h.broker.revalidate(clientID: "dev-a") { grant in (grant.context as? String) == "dev-a" ? .administrativeAction : nil }
        #expect(try await a.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
        h.broker.revalidateAll { grant in (grant.context as? String) == "dev-b" ? .administrativeAction : nil }
        #expect(try await b.waitForClose(timeout: .seconds(1)).isEmpty)  // 3.1.1: closed without a packet
        #expect(await c.receivesNothing(within: .milliseconds(200)))
        #expect(!c.isClosed)
    }

    @Test("observers see connects after CONNACK and disconnects, refused clients not at all")
    func observer() async throws {
        let recorder = RecordingObserver()
        let h = BrokerHarness(authenticator: GrantingAuthenticator(), observer: recorder)
        try await h.start()
        defer { Task { await h.shutdown() } }
        let a = try await h.client()
        try await a.connect(clientID: "watched")
        let refused = try await h.client()
        #expect(try await refused.connect(clientID: "refused-1").reasonCode == .badUserNameOrPassword)
        try await a.disconnect()
        try await Task.sleep(for: .milliseconds(200))
        #expect(recorder.events.withLock { $0 } == ["+watched", "-watched"])
    }

    @Test("admission refuses a client address before any byte is exchanged")
    func admission() async throws {
        let h = BrokerHarness(admission: { address in address?.ipAddress != "127.0.0.1" })
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        #expect(try await c.waitForClose(timeout: .seconds(2)).isEmpty)
    }

    @Test("the CONNECT rate limit answers 0x9F (5.0) / 0x03 (3.1.1) beyond the burst", arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func connectRate(version: MQTTProtocolVersion) async throws {
        var configuration = BrokerHarness.defaultConfiguration()
        configuration.connectRatePerSecond = 1  // burst of 5
        let h = BrokerHarness(configuration: configuration)
        try await h.start()
        defer { Task { await h.shutdown() } }
        var codes: [MQTTReasonCode] = []
        for i in 0..<10 {
            let c = try await h.client(version)
            codes.append(try await c.connect(clientID: "rate-\(i)").reasonCode)
        }
        #expect(codes.prefix(5).allSatisfy { $0 == .success })
        // 3.1.1 has no 0x9F: the return code is 0x03 Server unavailable, decoded as serverUnavailable.
        #expect(codes.suffix(5).contains { $0 == (version == .v5 ? .connectionRateExceeded : .serverUnavailable) })
        #expect(codes.allSatisfy { $0 == .success || $0 == (version == .v5 ? .connectionRateExceeded : .serverUnavailable) })
    }

    struct DenySecrets: TopicAuthorizer {
        func mayPublish(to topic: String) -> Bool { !topic.hasPrefix("secret") }
        func maySubscribe(to filter: MQTTTopicFilter) -> Bool { !filter.filter.hasPrefix("secret") }
    }
    struct DenyingAuthenticator: BrokerAuthenticator {
        func authenticate(_ request: ConnectRequest) async -> ConnectDecision { decideImmediately(request)! }
        func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? { .accept(authorizer: DenySecrets(), maximumQoS: .atLeastOnce) }
    }

    @Test("topic rights: refused publishes (PUBACK 0x87) and subscriptions (SUBACK 0x87) are counted; 3.1.1 is closed")
    func authorizationDenials() async throws {
        let h = BrokerHarness(authenticator: DenyingAuthenticator())
        try await h.start()
        defer { Task { await h.shutdown() } }
        let c = try await h.client()
        try await c.connect(clientID: "rights")
        #expect(try await c.publish("secret/x", "no", qos: .atLeastOnce) == .notAuthorized)
        #expect(try await c.subscribe("secret/#").reasonCodes == [.notAuthorized])
        #expect(try await c.publish("open/x", "yes", qos: .atLeastOnce) == .success)
        let v3 = try await h.client(.v3_1_1)
        try await v3.connect(clientID: "rights3")
        try await v3.send(.publish(MQTTPublish(topic: "secret/y", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 1)))
        #expect(try await v3.waitForClose().isEmpty)
        #expect(h.broker.statistics.snapshot().authorizationDenials == 3)
    }
}
