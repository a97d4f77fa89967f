import HubAccess
import HubAuth
import HubCore
import HubDevices
import HubMessaging
import HubRegistry
import HubStorage
import HubTestKit
import HubTwins
import Logging
import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// The Azure device protocol end to end over a real broker on 127.0.0.1: the hub's authenticator with
/// `DeviceProtocol` as every device connection's interceptor, over a registry, twins and C2D queues on
/// in-memory stores, driven by the MQTT test client (3.1.1, as the Azure SDKs speak it).
@Suite("Device protocol over MQTT", .timeLimit(.minutes(2)))
struct DeviceProtocolTests {
    struct Hub {
        let registry: DeviceRegistry
        let devices: DeviceProtocol
        let sink: InMemoryTelemetrySink
        let harness: BrokerHarness
        let background: Task<Void, Never>
        static let host = "hub.test"

        static func start() async throws -> Hub {
            var logger = Logger(label: "device-protocol-test")
            logger.logLevel = .critical
            let registry = DeviceRegistry(
                store: InMemoryRegistryStore(), policies: InMemoryAccessPolicyStore(), certificates: InMemoryCertificateStore(),
                users: InMemoryUserStore(), logger: logger)
            try await registry.bootstrap(ownerKey: nil)
            let sink = InMemoryTelemetrySink(capacity: 100)
            let devices = DeviceProtocol(
                registry: registry, twins: TwinService(store: InMemoryTwinStore(), logger: logger), telemetry: sink,
                cloudToDevice: try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), logger: logger), logger: logger)
            let tracker = RegistryConnectionTracker(registry: registry)
            var configuration = BrokerHarness.defaultConfiguration()
            configuration.allowAnonymous = false
            let harness = BrokerHarness(
                configuration: configuration,
                authenticator: HubMQTTAuthenticator(
                    registry: registry, hostNames: [host], allowAnonymous: false, logger: logger,
                    deviceInterceptor: { devices.interceptor(for: $0) }),
                observer: BrokerObserverGroup([tracker, devices]))
            try await harness.start()
            tracker.watch(harness.broker)
            devices.attach(harness.broker)
            let background = Task { _ = try? await devices.run() }
            return Hub(registry: registry, devices: devices, sink: sink, harness: harness, background: background)
        }

        func connect(_ id: String) async throws -> TestMQTTClient {
            let device = try await registry.putDevice(DeviceWrite(id: DeviceID(rawValue: id)!), ifMatch: nil)
            guard case .sas(let key, _) = device.authentication else { throw Failure() }
            let client = try await harness.client(.v3_1_1)
            let token = SASToken.make(resourceURI: "\(Self.host)/devices/\(id)", key: key, expiry: Timestamp.now().secondsSince1970 + 600)
            let ack = try await client.connect(
                clientID: id, cleanStart: false, keepAlive: 60, username: "\(Self.host)/\(id)/?api-version=2021-04-12", password: token)
            guard ack.reasonCode == .success else { throw Failure() }
            return client
        }

        func stop() async {
            background.cancel()
            await harness.shutdown()
        }

        /// Waits until the sink holds a message matching `predicate`.
        func stored(where predicate: (DeviceMessage) -> Bool) async throws -> DeviceMessage {
            for _ in 0..<200 {
                if let entry = sink.recent().first(where: { predicate($0.message) }) { return entry.message }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw Failure()
        }
    }

    struct Failure: Error {}

    @Test("telemetry is decoded, stamped and stored before its PUBACK; connects and disconnects are recorded as events")
    func telemetryAndPresence() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("drone-7")
        let connected = try await hub.stored { $0.messageSource == .deviceConnectionStateEvents }
        #expect(connected.applicationProperty("opType")?.value == "deviceConnected")
        #expect(connected.connectionDeviceID?.rawValue == "drone-7")

        let reason = try await device.publish(
            "devices/drone-7/messages/events/%24.mid=m%201&%24.ct=application%2Fjson&%24.ce=utf-8&alert=hi%2Fthere&flag",
            #"{"battery":81}"#, qos: .atLeastOnce)
        #expect(reason == .success)
        // The PUBACK came after the append: the message is already in the sink.
        let entry = try #require(hub.sink.recent().last { $0.message.messageSource == .telemetry })
        #expect(entry.partitionKey == "drone-7")
        let message = entry.message
        #expect(message.body == Array(#"{"battery":81}"#.utf8))
        #expect(message.messageID == "m 1" && message.contentType == "application/json" && message.contentEncoding == "utf-8")
        #expect(message.applicationProperty("alert")?.value == "hi/there")
        #expect(message.applicationProperty("flag") != nil && message.applicationProperty("flag")?.value == nil)
        #expect(message.connectionDeviceID?.rawValue == "drone-7" && message.connectionAuthMethod == .sas)
        #expect(message.enqueuedTime != nil)

        try await device.disconnect()
        let gone = try await hub.stored { $0.applicationProperty("opType")?.value == "deviceDisconnected" }
        #expect(gone.connectionDeviceID?.rawValue == "drone-7")
    }

    @Test("telemetry moves lastActivityTime; the connection state's time stays")
    func activity() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("busy")
        let id = DeviceID(rawValue: "busy")!
        let before = try await hub.registry.device(id)
        #expect(before.connectionState == .connected)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await device.publish("devices/busy/messages/events/", "{}", qos: .atLeastOnce) == .success)
        let after = try await hub.registry.device(id)
        #expect(after.connectionStateUpdatedTime == before.connectionStateUpdatedTime)
        #expect(after.lastActivityTime! > before.lastActivityTime!)
        await hub.registry.flushConnectionStates()
        let stored = try await hub.registry.device(id)
        #expect(stored.lastActivityTime == after.lastActivityTime && stored.connectionState == .connected)
    }

    @Test("a twin GET is answered on the response topic without a subscription; a reported patch answers 204 with the version")
    func twinRequests() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("twin-dev")
        try await device.send(.publish(MQTTPublish(topic: "$iothub/twin/GET/?$rid=a1", payload: ByteBuffer(string: " "), qos: .atLeastOnce, packetID: 1)))
        var response: MQTTPublish?
        for _ in 0..<3 {
            let packet = try await device.receive()
            if case .publish(let publish) = packet { response = publish }
            if response != nil { break }
        }
        let twin = try #require(response)
        #expect(twin.topic == "$iothub/twin/res/200/?$rid=a1")
        let body = try JSONParser.parse(Array(twin.payload.readableBytesView))
        guard case .object(let object) = body, case .object(let desired)? = object["desired"] else { Issue.record("no desired"); return }
        #expect(desired["$version"] != nil)

        try await device.send(.publish(MQTTPublish(
            topic: "$iothub/twin/PATCH/properties/reported/?$rid=a2", payload: ByteBuffer(string: #"{"fw":"1.0"}"#), qos: .atLeastOnce,
            packetID: 2)))
        var patchResponse: MQTTPublish?
        for _ in 0..<3 {
            if case .publish(let publish) = try await device.receive() { patchResponse = publish; break }
        }
        #expect(patchResponse?.topic == "$iothub/twin/res/204/?$rid=a2&$version=2")
        let stored = try await hub.devices.twins.twin(of: IdentityID(device: DeviceID(rawValue: "twin-dev")!))
        #expect(stored.reported.properties["fw"] == .string("1.0"))
    }

    @Test("a direct method reaches a subscribed device and returns its answer; an unsubscribed device is offline")
    func directMethod() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("meth-dev")
        let identity = IdentityID(device: DeviceID(rawValue: "meth-dev")!)
        await #expect(throws: DirectMethodError.self) {
            try await hub.devices.methods.invoke(DirectMethodRequest(methodName: "reboot", payload: .null), on: identity)
        }
        try await device.subscribe("$iothub/methods/POST/#", qos: .atLeastOnce)
        async let answer = hub.devices.methods.invoke(
            DirectMethodRequest(methodName: "reboot", payload: .object(JSONObject(["delay": .int(5)]))), on: identity)
        let request = try await device.receivePublish()
        #expect(request.topic.hasPrefix("$iothub/methods/POST/reboot/?$rid="))
        let rid = String(request.topic.split(separator: "=").last!)
        try await device.send(.publish(MQTTPublish(
            topic: "$iothub/methods/res/201/?$rid=\(rid)", payload: ByteBuffer(string: #"{"ok":true}"#), qos: .atLeastOnce, packetID: 9)))
        let response = try await answer
        #expect(response.status == 201)
        #expect(response.payload == .object(JSONObject(["ok": .bool(true)])))
    }

    @Test("a cloud-to-device message is delivered at QoS 1 with its property bag, and the PUBACK completes it")
    func cloudToDevice() async throws {
        let hub = try await Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("c2d-dev")
        try await device.subscribe("devices/c2d-dev/messages/devicebound/#", qos: .atLeastOnce)
        let id = DeviceID(rawValue: "c2d-dev")!
        try await hub.devices.cloudToDevice.enqueue(
            DeviceMessage(body: Array("land".utf8), messageID: "c1", ack: .full, applicationProperties: [.init("route", "a/b")]), to: id)
        let delivered = try await device.receivePublish()
        #expect(delivered.qos == .atLeastOnce)
        #expect(delivered.topic.hasPrefix("devices/c2d-dev/messages/devicebound/%24.mid=c1&%24.to=%2Fdevices%2Fc2d-dev%2Fmessages%2Fdevicebound"))
        #expect(delivered.topic.split(separator: "/").count == 5, "every / in the bag is escaped")
        #expect(delivered.topic.contains("route=a%2Fb"))
        #expect(await hub.devices.cloudToDevice.pendingCount(id) == 1)
        try await device.send(.pubAck(MQTTAck(packetID: delivered.packetID!)))
        for _ in 0..<200 where await hub.devices.cloudToDevice.pendingCount(id) > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await hub.devices.cloudToDevice.pendingCount(id) == 0)
        let feedback = try await hub.devices.cloudToDevice.receiveFeedback()
        #expect(feedback?.records.map(\.status) == [.success])
    }
}

@Suite("Device protocol limits", .timeLimit(.minutes(1)))
struct DeviceProtocolLimitTests {
    @Test("a reported patch over 32 KiB gets status 413 or 400 on the response topic and stores nothing")
    func oversizedReportedPatch() async throws {
        let hub = try await DeviceProtocolTests.Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("big-twin")
        let big = #"{"blob":""# + String(repeating: "x", count: 33 * 1024) + #""}"#
        try await device.send(.publish(MQTTPublish(
            topic: "$iothub/twin/PATCH/properties/reported/?$rid=z", payload: ByteBuffer(string: big), qos: .atLeastOnce, packetID: 3)))
        var response: MQTTPublish?
        for _ in 0..<3 {
            if case .publish(let publish) = try await device.receive() { response = publish; break }
        }
        let topic = try #require(response?.topic)
        #expect(topic == "$iothub/twin/res/400/?$rid=z" || topic == "$iothub/twin/res/413/?$rid=z")
        let twin = try await hub.devices.twins.twin(of: IdentityID(device: DeviceID(rawValue: "big-twin")!))
        #expect(twin.reported.version == 1 && twin.reported.properties["blob"] == nil)
    }

    @Test("a method payload over 128 KiB is refused before anything is sent")
    func oversizedMethodPayload() async throws {
        let request = DirectMethodRequest(methodName: "upload", payload: .string(String(repeating: "y", count: 128 * 1024)))
        #expect(throws: DirectMethodError.self) { try request.validate() }
        do {
            try request.validate()
        } catch {
            #expect(error.code == .payloadTooLarge)
        }
        #expect(throws: DirectMethodError.self) { try DirectMethodRequest(methodName: "bad/name", payload: .null).validate() }
        #expect(throws: DirectMethodError.self) {
            try DirectMethodRequest(methodName: "ok", payload: .null, responseTimeoutSeconds: 3).validate()
        }
    }

    @Test("a telemetry message over 256 KiB closes a 3.1.1 connection and is not stored")
    func oversizedTelemetry() async throws {
        let hub = try await DeviceProtocolTests.Hub.start()
        defer { Task { await hub.stop() } }
        let device = try await hub.connect("big-tel")
        try await device.send(.publish(MQTTPublish(
            topic: "devices/big-tel/messages/events/", payload: ByteBuffer(repeating: 0x41, count: 256 * 1024 + 1),
            qos: .atLeastOnce, packetID: 4)))
        #expect(try await device.waitForClose().isEmpty)
        #expect(!hub.sink.recent().contains { $0.message.messageSource == .telemetry })
    }
}
