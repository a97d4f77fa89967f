import HubAccess
import HubAuth
import HubCore
import HubRegistry
import HubStorage
import HubTestKit
import Logging
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// The hub's MQTT access rules end to end: a real broker on 127.0.0.1 with `HubMQTTAuthenticator` over
/// a registry on in-memory stores, driven by the MQTT test client.
@Suite("Device and user access over MQTT", .timeLimit(.minutes(2)))
struct DeviceAccessTests {
    /// A broker whose CONNECTs are decided by the hub's authenticator, and its registry.
    struct Hub {
        let registry: DeviceRegistry
        let harness: BrokerHarness
        static let host = "hub.test"

        static func start() async throws -> Hub {
            var logger = Logger(label: "access-test")
            logger.logLevel = .critical
            let registry = DeviceRegistry(
                store: InMemoryRegistryStore(), policies: InMemoryAccessPolicyStore(), certificates: InMemoryCertificateStore(),
                users: InMemoryUserStore(), logger: logger)
            try await registry.bootstrap(ownerKey: nil)
            let tracker = RegistryConnectionTracker(registry: registry)
            var configuration = BrokerHarness.defaultConfiguration()
            configuration.allowAnonymous = false
            let harness = BrokerHarness(
                configuration: configuration,
                authenticator: HubMQTTAuthenticator(registry: registry, hostNames: [host], allowAnonymous: false, logger: logger),
                observer: tracker)
            try await harness.start()
            tracker.watch(harness.broker)
            return Hub(registry: registry, harness: harness)
        }

        func device(_ id: String) async throws -> (Device, SharedAccessKey, SharedAccessKey) {
            let device = try await registry.putDevice(DeviceWrite(id: DeviceID(rawValue: id)!), ifMatch: nil)
            guard case .sas(let p, let s) = device.authentication else { throw Failure() }
            return (device, p, s)
        }

        /// Connects `id` with a token signed by `key`, valid for `seconds`.
        func connect(_ id: String, key: SharedAccessKey, version: MQTTProtocolVersion = .v3_1_1, seconds: Int64 = 3600, resource: String? = nil) async throws -> (TestMQTTClient, MQTTConnAck) {
            let client = try await harness.client(version)
            let token = SASToken.make(
                resourceURI: resource ?? "\(Self.host)/devices/\(id)", key: key, expiry: Timestamp.now().secondsSince1970 + seconds)
            let ack = try await client.connect(
                clientID: id, cleanStart: false, keepAlive: 60, username: "\(Self.host)/\(id)/?api-version=2021-04-12", password: token)
            return (client, ack)
        }

        func stop() async { await harness.shutdown() }
    }
    struct Failure: Error {}

    @Test("a SAS device connects and is confined to its own topics (3.1.1 closes, 5.0 gets 0x87)")
    func confinement() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let (_, key, _) = try await hub.device("dev-a")
        _ = try await hub.device("dev-b")
        let (a, ack) = try await hub.connect("dev-a", key: key, version: .v5)
        #expect(ack.reasonCode == .success)
        #expect(ack.properties.maximumQoS == 1)
        #expect(try await a.publish("devices/dev-a/messages/events/", "{}", qos: .atLeastOnce) == .success)
        #expect(try await a.publish("devices/dev-b/messages/events/", "{}", qos: .atLeastOnce) == .notAuthorized)
        #expect(try await a.subscribe("devices/dev-b/messages/devicebound/#", qos: .atLeastOnce).reasonCodes == [.notAuthorized])
        #expect(try await a.subscribe("devices/+/messages/devicebound/#", qos: .atLeastOnce).reasonCodes == [.notAuthorized])
        #expect(try await a.subscribe("#", qos: .atLeastOnce).reasonCodes == [.notAuthorized])
        #expect(try await a.subscribe("devices/dev-a/messages/devicebound/#", qos: .atLeastOnce).reasonCodes == [.grantedQoS1])
        let (b, _) = try await hub.connect("dev-b", key: try await hub.registry.device(DeviceID(rawValue: "dev-b")!).authentication.primaryKeyForTest())
        try await b.send(.publish(MQTTPublish(topic: "devices/dev-a/messages/events/", payload: ByteBuffer(string: "spoof"), qos: .atLeastOnce, packetID: 1)))
        #expect(try await b.waitForClose().isEmpty)
        #expect(hub.harness.broker.statistics.snapshot().authorizationDenials >= 5)
    }

    @Test("refused credentials: wrong key, other device's token, expired, malformed, unknown device, disabled")
    func refusals() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let (_, key, _) = try await hub.device("dev-r")
        _ = try await hub.device("dev-other")
        #expect(try await hub.connect("dev-r", key: .generate()).1.reasonCode == .notAuthorized)  // 3.1.1 0x05
        #expect(try await hub.connect("dev-r", key: key, resource: "\(Hub.host)/devices/dev-other").1.reasonCode == .notAuthorized)
        #expect(try await hub.connect("dev-r", key: key, seconds: -400).1.reasonCode == .notAuthorized)
        #expect(try await hub.connect("ghost", key: key).1.reasonCode == .notAuthorized)
        let v5 = try await hub.harness.client(.v5)
        #expect(try await v5.connect(clientID: "dev-r", username: "\(Hub.host)/dev-r/?api-version=1", password: "not a token").reasonCode == .badUserNameOrPassword)
        let mismatch = try await hub.harness.client(.v5)
        #expect(try await mismatch.connect(clientID: "dev-r", username: "\(Hub.host)/dev-other/?api-version=1", password: "x").reasonCode == .clientIdentifierNotValid)
        _ = try await hub.registry.putDevice(DeviceWrite(id: DeviceID(rawValue: "dev-r")!, status: .disabled, authentication: .sas(primaryKey: key, secondaryKey: nil)), ifMatch: "*")
        #expect(try await hub.connect("dev-r", key: key).1.reasonCode == .notAuthorized)
        #expect(hub.harness.broker.statistics.snapshot().authenticationFailures >= 7)
    }

    @Test("disabling, deleting or re-keying a device disconnects it within a second (0x98); the other key's session stays")
    func revocation() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let (_, p1, s1) = try await hub.device("rev-1")
        let (onPrimary, _) = try await hub.connect("rev-1", key: p1, version: .v5)
        _ = try await hub.device("rev-2")
        let (_, p2, _) = try await hub.device("rev-3")
        let (deleted, _) = try await hub.connect("rev-3", key: p2, version: .v5)
        // Key rotation: the primary is replaced; a connection on the secondary key stays.
        let start = ContinuousClock.now
        _ = try await hub.registry.regenerateKey(DeviceID(rawValue: "rev-1")!, .primary)
        #expect(try await onPrimary.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
        #expect(ContinuousClock.now - start < .seconds(1))
        let (onSecondary, ack) = try await hub.connect("rev-1", key: s1, version: .v5)
        #expect(ack.reasonCode == .success)
        _ = try await hub.registry.regenerateKey(DeviceID(rawValue: "rev-1")!, .primary)
        #expect(await onSecondary.receivesNothing(within: .milliseconds(300)))
        // Disable.
        _ = try await hub.registry.putDevice(DeviceWrite(id: DeviceID(rawValue: "rev-1")!, status: .disabled, authentication: .sas(primaryKey: nil, secondaryKey: s1)), ifMatch: "*")
        #expect(try await onSecondary.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
        // Delete.
        try await hub.registry.deleteDevice(DeviceID(rawValue: "rev-3")!, ifMatch: nil)
        #expect(try await deleted.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
    }

    @Test("a connection is closed when its SAS token expires")
    func tokenExpiry() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let (_, key, _) = try await hub.device("short")
        let (c, ack) = try await hub.connect("short", key: key, version: .v5, seconds: 2)
        #expect(ack.reasonCode == .success)
        let start = ContinuousClock.now
        #expect(try await c.waitForClose(timeout: .seconds(5)) == [.disconnect(MQTTDisconnect(reasonCode: .maximumConnectTime))])
        #expect(ContinuousClock.now - start > .milliseconds(900))
    }

    @Test("a DeviceConnect policy token may act for a device; a registryRead one may not")
    func policyTokens() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        _ = try await hub.device("pol")
        let device = try #require(hub.registry.policy(named: "device"))
        let client = try await hub.harness.client(.v5)
        let token = SASToken.make(resourceURI: Hub.host, key: device.primaryKey, expiry: Timestamp.now().secondsSince1970 + 60, keyName: "device")
        #expect(try await client.connect(clientID: "pol", username: "\(Hub.host)/pol/?api-version=1", password: token).reasonCode == .success)
        let read = try #require(hub.registry.policy(named: "registryRead"))
        let other = try await hub.harness.client(.v5)
        let readToken = SASToken.make(resourceURI: Hub.host, key: read.primaryKey, expiry: Timestamp.now().secondsSince1970 + 60, keyName: "registryRead")
        #expect(try await other.connect(clientID: "pol", username: "\(Hub.host)/pol/?api-version=1", password: readToken).reasonCode == .notAuthorized)
        // Regenerating the policy key ends the session that used it.
        _ = try await hub.registry.regeneratePolicyKey("device", .primary)
        #expect(try await client.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
    }

    @Test("MQTT users: password and ACL rules; a changed user is disconnected")
    func users() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        _ = try await hub.registry.putUser(
            username: "ground", password: "s3cret-pass",
            rules: [ACLRule(pattern: "fleet/%c/#", actions: .all), ACLRule(pattern: "alerts/#", actions: .subscribe)], ifMatch: nil)
        let bad = try await hub.harness.client(.v5)
        #expect(try await bad.connect(clientID: "gs1", username: "ground", password: "wrong").reasonCode == .badUserNameOrPassword)
        let c = try await hub.harness.client(.v5)
        #expect(try await c.connect(clientID: "gs1", username: "ground", password: "s3cret-pass").reasonCode == .success)
        #expect(try await c.publish("fleet/gs1/status", "ok", qos: .atLeastOnce) == .success)
        #expect(try await c.publish("fleet/gs2/status", "no", qos: .atLeastOnce) == .notAuthorized)
        #expect(try await c.publish("alerts/x", "no", qos: .atLeastOnce) == .notAuthorized)
        #expect(try await c.subscribe("alerts/#").reasonCodes == [.grantedQoS0])
        // The second connect is answered from the verified-password cache (no scrypt run).
        let again = try await hub.harness.client(.v5)
        let start = ContinuousClock.now
        #expect(try await again.connect(clientID: "gs2", username: "ground", password: "s3cret-pass").reasonCode == .success)
        #expect(ContinuousClock.now - start < .milliseconds(500))
        _ = try await hub.registry.putUser(username: "ground", password: "new-pass", rules: [], ifMatch: "*")
        #expect(try await c.waitForClose(timeout: .seconds(1)) == [.disconnect(MQTTDisconnect(reasonCode: .administrativeAction))])
    }

    @Test("anonymous clients are refused unless allowed")
    func anonymous() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let c = try await hub.harness.client(.v3_1_1)
        #expect(try await c.connect(clientID: "anon").reasonCode == .notAuthorized)  // 3.1.1 0x05
    }
}

extension DeviceAuthentication {
    func primaryKeyForTest() throws -> SharedAccessKey {
        guard case .sas(let p, _) = self else { throw DeviceAccessTests.Failure() }
        return p
    }
}
