import Foundation
import HubServer
import HubTestKit
import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// The composed hub over real sockets: storage, broker, the four listeners, logs, shutdown, restart.
@Suite("MeridianServer over real sockets")
struct MeridianServerIntegrationTests {
    static func configuration(dataDirectory: String, ports: [Int]) -> HubConfiguration {
        var c = HubConfiguration()
        c.dataDirectory = dataDirectory
        c.bind = "127.0.0.1"
        c.mqttPort = ports[0]
        c.mqttsPort = ports[1]
        c.httpPort = ports[2]
        c.httpsPort = ports[3]
        c.allowAnonymous = true
        c.limits.connectTimeoutSeconds = 1
        c.limits.persistenceFlushInterval = 0.05
        return c
    }

    @Test("serves MQTT and MQTT over TLS, logs each listener, and keeps retained messages across a restart")
    func servesAndRestarts() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ports = try await FreePorts.pick(4)
        let configuration = Self.configuration(dataDirectory: dir.appending("data"), ports: ports)
        let logs = LogCapture()
        try await withRunningServer(configuration, logs: logs) {
            let publisher = try await TestMQTTClient.open(port: ports[0])
            #expect(try await publisher.connect(clientID: "publisher").reasonCode == .success)
            #expect(try await publisher.publish("keep/me", "hello 'world'", qos: .atLeastOnce, retain: true) == .success)
            try await publisher.disconnect()

            // The TLS listener presents the development certificate, which chains to ca.pem.
            let tls = try await OpenSSL.handshake(
                port: ports[1],
                ["-CAfile", dir.appending("data/tls/ca.pem"), "-verify_return_error", "-verify_hostname", "localhost"],
                waitForServer: false)
            #expect(tls.succeeded, "\(tls.result.output)")
            let legacy = try await OpenSSL.handshake(
                port: ports[1], ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], waitForServer: false)
            #expect(!legacy.succeeded)
        }
        let listenerLines = logs.messages.filter { $0.hasPrefix("listener ") }
        #expect(
            listenerLines == [
                "listener mqtt on 127.0.0.1:\(ports[0]) (MQTT)",
                "listener mqtts on 127.0.0.1:\(ports[1]) (MQTT over TLS)",
                "listener http on 127.0.0.1:\(ports[2]) (REST API, MQTT over WebSocket at /mqtt)",
                "listener https on 127.0.0.1:\(ports[3]) (REST API, MQTT over WebSocket over TLS at /mqtt, /$iothub/websocket)",
            ])
        let ready = try #require(logs.messages.firstIndex(of: "meridian ready"))
        #expect(logs.messages.lastIndex { $0.hasPrefix("listener ") }! < ready)
        #expect(logs.messages.contains { $0.hasPrefix("development CA: ") && $0.hasSuffix("ca.pem — trust it in clients") })
        #expect(logs.messages.last == "meridian stopped")

        // Same data directory: the retained message came back from SQLite.
        let again = LogCapture()
        try await withRunningServer(configuration, logs: again) {
            let subscriber = try await TestMQTTClient.open(port: ports[0])
            try await subscriber.connect(clientID: "subscriber")
            try await subscriber.subscribe("keep/#", qos: .atLeastOnce)
            let retained = try await subscriber.receivePublish()
            #expect(retained.topic == "keep/me")
            #expect(retained.payload == ByteBuffer(string: "hello 'world'"))
            #expect(retained.retain)
            try await subscriber.disconnect()
        }
        // The CA was reused, not recreated.
        #expect(!again.messages.contains { $0.hasPrefix("created a development CA") })
    }

    @Test("without allow-anonymous, anonymous clients are refused")
    func anonymousRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ports = try await FreePorts.pick(4)
        var configuration = Self.configuration(dataDirectory: dir.path, ports: ports)
        configuration.allowAnonymous = false
        configuration.mqttsPort = 0
        configuration.httpsPort = 0
        try await withRunningServer(configuration, logs: LogCapture()) {
            let client = try await TestMQTTClient.open(port: ports[0])
            #expect(try await client.connect(clientID: "anon").reasonCode == .notAuthorized)
        }
        // No TLS listener: no development CA either.
        #expect(!FileManager.default.fileExists(atPath: dir.appending("tls")))
    }

    @Test("a port in use stops start-up with one line naming the listener")
    func portInUse() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ports = try await FreePorts.pick(4)
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: ports[2]).get()
        let logs = LogCapture()
        do {
            try await withRunningServer(Self.configuration(dataDirectory: dir.path, ports: ports), logs: logs) {
                Issue.record("the server got ready although port \(ports[2]) was taken")
            }
        } catch let error as HubServerError {
            #expect(error.code == .cannotListen)
            #expect(error.message == "cannot listen on 127.0.0.1:\(ports[2]) (http): address already in use")
        }
        try await holder.close()
        // What was bound before the failure was released: the mqtt port is free again.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: ports[0]).get()
        try await probe.close()
    }
}
