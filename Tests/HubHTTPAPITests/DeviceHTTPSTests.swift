import Foundation
import HTTPTypes
import HubAuth
import HubCore
import HubDevices
import HubMessaging
import HubTestKit
import HummingbirdTesting
import MQTTCodec
import NIOCore
import Testing

@testable import HubHTTPAPI

/// The device-side HTTPS API (protocol reference §6) through the router, with a real `DeviceProtocol`:
/// telemetry into the sink, cloud-to-device receive and settle, device authentication.
@Suite("device-side HTTPS API")
struct DeviceHTTPSTests {
    // MARK: helpers

    /// Creates a SAS device (and a module, if named) with the owner's token; returns the identity's
    /// primary key and generation id.
    static func create(_ device: String, module: String? = nil, on hub: TestHub, _ client: any TestClientProtocol) async throws
        -> (key: SharedAccessKey, generationID: String)
    {
        var response = try await client.call(.put, "/devices/\(device)", json: #"{"deviceId":"\#(device)"}"#, token: hub.token())
        if let module {
            response = try await client.call(
                .put, "/devices/\(device)/modules/\(module)", json: #"{"deviceId":"\#(device)","moduleId":"\#(module)"}"#, token: hub.token())
        }
        #expect(response.status == .ok, "\(response.text)")
        let json = try #require(response.json)
        let key = try SharedAccessKey(base64: try #require(json[path: "authentication.symmetricKey.primaryKey"]?.string))
        return (key, try #require(json["generationId"]?.string))
    }

    /// A device or module token (`sr={host}/devices/{d}[/modules/{m}]`), or with `keyName` a policy token.
    static func token(_ resource: String, key: SharedAccessKey, keyName: String? = nil, expiry: Int64 = WallClock.nowMillis() / 1000 + 600) -> String {
        SASToken.make(resourceURI: resource, key: key, expiry: expiry, keyName: keyName)
    }

    static func sink(_ hub: TestHub) throws -> InMemoryTelemetrySink {
        try #require(hub.devices?.telemetrySink as? InMemoryTelemetrySink)
    }

    static func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    /// A raw-body request with `token`, `api-version` appended like the SDKs do.
    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String?, headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> TestResponse {
        var fields = Self.headers(headers)
        if let token { fields[.authorization] = token }
        let separator = path.contains("?") ? "&" : "?"
        return try await client.execute(
            uri: path + separator + "api-version=2020-03-13", method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// A service-side send (`POST /devices/{id}/messages/deviceBound`) with the owner's token.
    static func serviceSend(_ client: any TestClientProtocol, hub: TestHub, to device: String, _ text: String, headers: [(String, String)]) async throws {
        let response = try await send(client, .post, "/devices/\(device)/messages/deviceBound", token: hub.token(), headers: headers, body: Array(text.utf8))
        #expect(response.status == .ok, "\(response.text)")
    }

    static func feedback(_ client: any TestClientProtocol, hub: TestHub) async throws -> [String] {
        let response = try await client.call(.get, "/messages/serviceBound/feedback", token: hub.token())
        guard response.status == .ok else { return [] }
        return response.json?.array?.compactMap { $0["statusCode"]?.string } ?? []
    }

    // MARK: send event

    @Test("send event: 204, stored once with app and system properties and the hub's stamps")
    func sendEvent() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, generationID) = try await Self.create("dev1", on: hub, client)
            let response = try await Self.send(
                client, .post, "/devices/dev1/messages/events", token: Self.token("localhost/devices/dev1", key: key),
                headers: [
                    ("iothub-app-temperature", "21.5"), ("iothub-app-Alert", ""), ("iothub-messageid", "m-1"),
                    ("iothub-correlationid", "c-1"), ("Content-Type", "application/json"), ("iothub-contentencoding", "utf-8"),
                    ("iothub-connection-device-id", "spoofed"),
                ],
                body: Array(#"{"t":21.5}"#.utf8))
            #expect(response.status == .noContent, "\(response.text)")
            #expect(response.body.readableBytes == 0)
            let entries = try Self.sink(hub).recent()
            try #require(entries.count == 1)
            let entry = entries[0]
            #expect(entry.partitionKey == "dev1")
            let message = entry.message
            #expect(message.body == Array(#"{"t":21.5}"#.utf8))
            #expect(message.applicationProperties == [DeviceMessage.Property("temperature", "21.5"), DeviceMessage.Property("Alert", "")])
            #expect(message.messageID == "m-1")
            #expect(message.correlationID == "c-1")
            #expect(message.contentType == "application/json")
            #expect(message.contentEncoding == "utf-8")
            #expect(message.connectionDeviceID?.rawValue == "dev1")
            #expect(message.connectionModuleID == nil)
            #expect(message.connectionAuthMethod == .sas)
            #expect(message.connectionAuthGenerationID == generationID)
            #expect(message.messageSource == .telemetry)
            let enqueued = try #require(message.enqueuedTime)
            #expect(abs(enqueued.rawValue - WallClock.nowMillis()) < 10_000)
        }
    }

    @Test("module send event: the module's token, stamped with the module, partitioned by device/module")
    func sendModuleEvent() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (deviceKey, _) = try await Self.create("dev1", on: hub, client)
            let (moduleKey, _) = try await Self.create("dev1", module: "mod1", on: hub, client)
            let path = "/devices/dev1/modules/mod1/messages/events"
            let ok = try await Self.send(client, .post, path, token: Self.token("localhost/devices/dev1/modules/mod1", key: moduleKey), body: [1, 2, 3])
            #expect(ok.status == .noContent, "\(ok.text)")
            // A device token is not valid for its modules, nor a module token for the device.
            expectError(
                try await Self.send(client, .post, path, token: Self.token("localhost/devices/dev1", key: deviceKey), body: [1]),
                .unauthorized, "IotHubUnauthorizedAccess")
            expectError(
                try await Self.send(
                    client, .post, "/devices/dev1/messages/events", token: Self.token("localhost/devices/dev1/modules/mod1", key: moduleKey), body: [1]),
                .unauthorized, "IotHubUnauthorizedAccess")
            let entries = try Self.sink(hub).recent()
            try #require(entries.count == 1)
            #expect(entries[0].partitionKey == "dev1/mod1")
            #expect(entries[0].message.connectionModuleID?.rawValue == "mod1")
            #expect(entries[0].message.body == [1, 2, 3])
        }
    }

    @Test("over 256 KiB as Azure counts it (body alone, or body plus properties): 413 and nothing stored")
    func oversized() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            let limit = DeviceMessage.maxTelemetrySize
            let bodyTooLarge = try await Self.send(client, .post, "/devices/dev1/messages/events", token: token, body: Array(repeating: 0x61, count: limit + 1))
            expectError(bodyTooLarge, .contentTooLarge, "MessageTooLarge")
            #expect(bodyTooLarge.azureError?.code == 413001)
            let withProperties = try await Self.send(
                client, .post, "/devices/dev1/messages/events", token: token, headers: [("iothub-app-k", "v")],
                body: Array(repeating: 0x61, count: limit))
            expectError(withProperties, .contentTooLarge, "MessageTooLarge")
            #expect(try Self.sink(hub).counters.messages == 0)
            #expect(hub.devices?.refusedTelemetryCount == 1)
            let atLimit = try await Self.send(client, .post, "/devices/dev1/messages/events", token: token, body: Array(repeating: 0x61, count: limit))
            #expect(atLimit.status == .noContent)
        }
    }

    @Test("a sink that fails: 503 ServiceUnavailable with Retry-After, nothing acknowledged")
    func sinkFailure() async throws {
        let hub = try await TestHub.make(withDevices: .init(telemetry: FailingSink()))
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let response = try await Self.send(
                client, .post, "/devices/dev1/messages/events", token: Self.token("localhost/devices/dev1", key: key), body: Array("x".utf8))
            expectError(response, .serviceUnavailable, "ServiceUnavailable")
            #expect(response.azureError?.code == 503001)
            #expect(response.headers[.retryAfter] == "1")
        }
    }

    @Test("invalid properties (non-ASCII value, empty name): 400 ArgumentInvalid, nothing stored")
    func invalidProperties() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            expectError(
                try await Self.send(client, .post, "/devices/dev1/messages/events", token: token, headers: [("iothub-app-", "v")], body: [1]),
                .badRequest, "ArgumentInvalid")
            #expect(try Self.sink(hub).counters.messages == 0)
        }
    }

    // MARK: authentication

    @Test("authentication: device key, DeviceConnect policy tokens; wrong device, expired, forged, disabled, unknown, no DeviceConnect → 401")
    func authentication() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let (otherKey, _) = try await Self.create("dev2", on: hub, client)
            let devicePolicy = try #require(hub.registry.policy(named: "device"))
            let servicePolicy = try #require(hub.registry.policy(named: "service"))
            let owner = try #require(hub.registry.policy(named: "iothubowner"))
            let now = WallClock.nowMillis() / 1000
            let path = "/devices/dev1/messages/events"

            let accepted: [(String, String)] = [
                ("device primary key", Self.token("localhost/devices/dev1", key: key)),
                ("device key, other accepted host name", Self.token("myhub.azure-devices.net/devices/dev1", key: key)),
                ("device policy, hub scope", Self.token("localhost", key: devicePolicy.primaryKey, keyName: "device")),
                ("device policy, device scope", Self.token("localhost/devices/dev1", key: devicePolicy.secondaryKey, keyName: "device")),
                ("iothubowner policy", Self.token("localhost", key: owner.primaryKey, keyName: "iothubowner")),
            ]
            for (label, token) in accepted {
                let response = try await Self.send(client, .post, path, token: token, body: Array(label.utf8))
                #expect(response.status == .noContent, "\(label): \(response.text)")
            }
            #expect(try Self.sink(hub).counters.messages == Int64(accepted.count))

            let refused: [(String, String?)] = [
                ("no header", nil),
                ("not a SAS token", "Bearer abc"),
                ("token of another device", Self.token("localhost/devices/dev2", key: otherKey)),
                ("other device's sr, this device's key", Self.token("localhost/devices/dev2", key: key)),
                ("device policy scoped to another device", Self.token("localhost/devices/dev2", key: devicePolicy.primaryKey, keyName: "device")),
                ("expired", Self.token("localhost/devices/dev1", key: key, expiry: now - 3600)),
                ("forged", Self.token("localhost/devices/dev1", key: otherKey)),
                ("foreign host", Self.token("elsewhere/devices/dev1", key: key)),
                ("device token without device scope", Self.token("localhost", key: key)),
                ("policy without DeviceConnect", Self.token("localhost", key: servicePolicy.primaryKey, keyName: "service")),
                ("unknown policy", Self.token("localhost", key: key, keyName: "nobody")),
            ]
            for (label, token) in refused {
                let response = try await Self.send(client, .post, path, token: token, body: [1])
                expectError(response, .unauthorized, "IotHubUnauthorizedAccess")
                #expect(response.status == .unauthorized, "\(label)")
            }
            // Unknown device: the same 401 (not 404), even with a DeviceConnect policy.
            let unknown = try await Self.send(
                client, .post, "/devices/ghost/messages/events", token: Self.token("localhost", key: devicePolicy.primaryKey, keyName: "device"), body: [1])
            expectError(unknown, .unauthorized, "IotHubUnauthorizedAccess")
            // Disabled device: 401 for its own valid token, and for policy tokens.
            let disable = try await client.call(.put, "/devices/dev1", json: #"{"deviceId":"dev1","status":"disabled"}"#, token: hub.token(), ifMatch: "*")
            #expect(disable.status == .ok)
            expectError(try await Self.send(client, .post, path, token: Self.token("localhost/devices/dev1", key: key), body: [1]), .unauthorized, "IotHubUnauthorizedAccess")
            expectError(
                try await Self.send(client, .post, path, token: Self.token("localhost", key: devicePolicy.primaryKey, keyName: "device"), body: [1]),
                .unauthorized, "IotHubUnauthorizedAccess")
            expectError(try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: Self.token("localhost/devices/dev1", key: key)), .unauthorized, "IotHubUnauthorizedAccess")
            #expect(try Self.sink(hub).counters.messages == Int64(accepted.count))
        }
    }

    @Test("one path, two APIs: POST deviceBound is the service's send (policy tokens), GET the device's receive (device tokens)")
    func methodDecidesTheAPI() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let deviceToken = Self.token("localhost/devices/dev1", key: key)
            let path = "/devices/dev1/messages/deviceBound"
            expectError(try await Self.send(client, .post, path, token: deviceToken, body: [1]), .unauthorized, "IotHubUnauthorizedAccess")
            let servicePolicy = try #require(hub.registry.policy(named: "service"))
            expectError(
                try await Self.send(client, .get, path, token: Self.token("localhost", key: servicePolicy.primaryKey, keyName: "service")),
                .unauthorized, "IotHubUnauthorizedAccess")
            #expect(try await Self.send(client, .get, path, token: deviceToken).status == .noContent)
            let notAllowed = try await Self.send(client, .put, path, token: deviceToken)
            expectError(notAllowed, .methodNotAllowed, "MethodNotAllowed")
            #expect(notAllowed.headers[.allow].map { Set($0.components(separatedBy: ", ")) } == ["GET", "POST"])
            let events = try await Self.send(client, .get, "/devices/dev1/messages/events", token: deviceToken)
            expectError(events, .methodNotAllowed, "MethodNotAllowed")
            #expect(events.headers[.allow] == "POST")
        }
    }

    @Test("the device rate has its own bucket: 429 with Retry-After once spent, registry calls unaffected")
    func throttled() async throws {
        let hub = try await TestHub.make(clock: { 0 }, deviceRate: 60, withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            for _ in 0..<10 {
                #expect(try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token).status == .noContent)
            }
            let refused = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            expectError(refused, .tooManyRequests, "ThrottlingException")
            #expect(refused.headers[.retryAfter] != nil)
            #expect(try await client.call(.get, "/devices/dev1", token: hub.token()).status == .ok)
        }
    }

    // MARK: cloud-to-device

    @Test("receive with nothing queued: 204")
    func receiveEmpty() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let response = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: Self.token("localhost/devices/dev1", key: key))
            #expect(response.status == .noContent)
            #expect(response.body.readableBytes == 0)
        }
    }

    @Test("service send, device receive (body, ETag, iothub-* headers) and complete: positive feedback; the token is then unknown")
    func receiveAndComplete() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            try await Self.serviceSend(
                client, hub: hub, to: "dev1", "hello",
                headers: [("iothub-ack", "full"), ("iothub-messageid", "msg-1"), ("iothub-correlationid", "corr-1"), ("iothub-app-k", "v"), ("iothub-app-MixedCase", "M")])
            let received = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            #expect(received.status == .ok, "\(received.text)")
            #expect(received.text == "hello")
            let etag = try #require(received.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count > 2)
            func header(_ name: String) -> String? { received.headers[HTTPField.Name(name)!] }
            #expect(header("iothub-messageid") == "msg-1")
            #expect(header("iothub-correlationid") == "corr-1")
            #expect(header("iothub-app-k") == "v")
            // Property names keep the case they were sent with (HTTP/1.1 header names do).
            #expect(received.headers.contains { $0.name.rawName == "iothub-app-MixedCase" && $0.value == "M" })
            #expect(header("iothub-ack") == "full")
            #expect(header("iothub-deliverycount") == "0")
            #expect(header("iothub-to") == "/devices/dev1/messages/devicebound")
            #expect(header("iothub-sequencenumber") != nil)
            #expect(header("iothub-enqueuedtime") != nil)
            // Locked: not delivered again meanwhile.
            #expect(try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token).status == .noContent)

            let lock = HTTPMessageHeaders.lockToken(fromETag: etag)
            let completed = try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(lock)", token: token)
            #expect(completed.status == .noContent, "\(completed.text)")
            let again = try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(lock)", token: token)
            expectError(again, .notFound, "DeviceMessageNotFound")
            #expect(try await Self.feedback(client, hub: hub) == ["Success"])
        }
    }

    @Test("abandon: 204 and the message comes back with delivery count 1")
    func abandon() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            try await Self.serviceSend(client, hub: hub, to: "dev1", "again", headers: [("iothub-messageid", "msg-a")])
            let first = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            let lock = HTTPMessageHeaders.lockToken(fromETag: try #require(first.headers[.eTag]))
            let abandoned = try await Self.send(client, .post, "/devices/dev1/messages/deviceBound/\(lock)/abandon", token: token)
            #expect(abandoned.status == .noContent, "\(abandoned.text)")
            let second = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            #expect(second.status == .ok)
            #expect(second.text == "again")
            #expect(second.headers[HTTPField.Name("iothub-messageid")!] == "msg-a")
            #expect(second.headers[HTTPField.Name("iothub-deliverycount")!] == "1")
            #expect(second.headers[.eTag] != first.headers[.eTag])
        }
    }

    @Test("reject (?reject and ?reject=true): 204, dead-lettered, negative feedback", arguments: ["?reject", "?reject=true"])
    func reject(query: String) async throws {
        let hub = try await TestHub.make(withDevices: .init())
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            try await Self.serviceSend(client, hub: hub, to: "dev1", "no thanks", headers: [("iothub-ack", "negative")])
            let received = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            let lock = HTTPMessageHeaders.lockToken(fromETag: try #require(received.headers[.eTag]))
            let rejected = try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(lock)\(query)", token: token)
            #expect(rejected.status == .noContent, "\(rejected.text)")
            #expect(try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token).status == .noContent)
            #expect(try await Self.feedback(client, hub: hub) == ["Rejected"])
        }
    }

    @Test("settling: an expired lock is 412 DeviceMessageLockLost (412002); another device's or an unknown token 404; a bad reject value 400")
    func settleErrors() async throws {
        var setup = TestHub.DeviceSetup()
        setup.cloudToDevice.queue.lockTimeout = .milliseconds(200)
        let hub = try await TestHub.make(withDevices: setup)
        try await hub.withClient { client in
            let (key, _) = try await Self.create("dev1", on: hub, client)
            let (otherKey, _) = try await Self.create("dev2", on: hub, client)
            let token = Self.token("localhost/devices/dev1", key: key)
            try await Self.serviceSend(client, hub: hub, to: "dev1", "slow", headers: [])
            let received = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            let etag = try #require(received.headers[.eTag])
            let lock = HTTPMessageHeaders.lockToken(fromETag: etag)
            let stranger = try await Self.send(client, .delete, "/devices/dev2/messages/deviceBound/\(lock)", token: Self.token("localhost/devices/dev2", key: otherKey))
            expectError(stranger, .notFound, "DeviceMessageNotFound")
            expectError(try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(lock)?reject=maybe", token: token), .badRequest, "ArgumentInvalid")
            expectError(try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/no-such-token", token: token), .notFound, "DeviceMessageNotFound")
            try await Task.sleep(for: .milliseconds(400))
            let late = try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(lock)", token: token)
            expectError(late, .preconditionFailed, "DeviceMessageLockLost")
            #expect(late.azureError?.code == 412002)
            let lateAbandon = try await Self.send(client, .post, "/devices/dev1/messages/deviceBound/\(lock)/abandon", token: token)
            expectError(lateAbandon, .preconditionFailed, "DeviceMessageLockLost")
            // The quoted ETag, percent-encoded in the path, names the same lock.
            let again = try await Self.send(client, .get, "/devices/dev1/messages/deviceBound", token: token)
            let quoted = try #require(again.headers[.eTag]).replacingOccurrences(of: "\"", with: "%22")
            #expect(try await Self.send(client, .delete, "/devices/dev1/messages/deviceBound/\(quoted)", token: token).status == .noContent)
        }
    }

    // MARK: broker routing, live listener

    @Test("over a live listener: telemetry answered 204 and routed to MQTT watchers of devices/+/messages/events/# with the hub's stamps")
    func routedToWatchers() async throws {
        let hub = try await TestHub.make(withDevices: .init())
        let devices = try #require(hub.devices)
        let (key, _) = try await hub.withClient { client in try await Self.create("dev1", on: hub, client) }
        try await ListenerTests.withListener(hub: hub) { port, harness in
            devices.attach(harness.broker)
            let watcher = try await harness.client(.v5)
            try await watcher.connect(clientID: "watcher")
            try await watcher.subscribe("devices/+/messages/events/#", qos: .atLeastOnce)

            let body = #"{"t":1}"#
            let request =
                "POST /devices/dev1/messages/events?api-version=2020-03-13 HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: \(Self.token("localhost/devices/dev1", key: key))\r\n"
                + "iothub-app-temp: 21\r\niothub-messageid: m 1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let connection = try await RawConnection.open(port: port)
            try await connection.send(request)
            let head = try await connection.readHead()
            #expect(head.hasPrefix("HTTP/1.1 204"), "\(head)")
            await connection.close()

            let publish = try await watcher.receivePublish()
            #expect(publish.topic == "devices/dev1/messages/events/%24.mid=m%201&%24.ct=application%2Fjson&temp=21")
            #expect(publish.payload == ByteBuffer(string: body))
            #expect(publish.qos == .atLeastOnce)
            let properties = Dictionary(publish.properties.userProperties.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(properties["iothub-connection-device-id"] == "dev1")
            #expect(properties["iothub-message-source"] == "Telemetry")
            #expect(properties["message-id"] == "m 1")
            #expect(properties["temp"] == "21")
            #expect(publish.properties.contentType == "application/json")
            #expect(try Self.sink(hub).counters.messages == 1)
            try await watcher.disconnect()
        }
    }

    // MARK: route table

    @Test("no two routes of either table share a method and path")
    func uniqueRoutes() {
        let keys = ServiceRoute.allCases.map { "\($0.method) \($0.path)" } + DeviceRoute.allCases.map { "\($0.method) \($0.path)" }
        #expect(Set(keys).count == keys.count)
    }

    @Test("lock tokens in paths are left out of log lines")
    func loggablePaths() {
        #expect(RoutePattern.loggable("/devices/d1/messages/deviceBound/secret") == "/devices/d1/messages/deviceBound/{etag}")
        #expect(RoutePattern.loggable("/devices/d1/messages/deviceBound/secret/abandon") == "/devices/d1/messages/deviceBound/{etag}/abandon")
        #expect(RoutePattern.loggable("/messages/serviceBound/feedback/secret") == "/messages/serviceBound/feedback/{lockToken}")
        #expect(RoutePattern.loggable("/devices/d1/messages/deviceBound") == "/devices/d1/messages/deviceBound")
        #expect(RoutePattern.loggable("/nothing/here") == "/nothing/here")
    }
}

/// A telemetry sink whose disk is always full.
final class FailingSink: TelemetrySink {
    func append(_ message: DeviceMessage, partitionKey: String, completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void) {
        completion(.failure(TelemetrySinkError(.diskFull, "no space left")))
    }
}
