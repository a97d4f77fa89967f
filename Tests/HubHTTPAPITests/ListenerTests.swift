import Foundation
import HubCore
import HubTestKit
import Logging
import MQTTCodec
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Testing

@testable import HubHTTPAPI

/// `HTTPListener` over real sockets on 127.0.0.1: MQTT over WebSockets through the new channel, TLS,
/// and the connection-level abuse cases (H8 streaming, H11, H12, H21, IP filter).
@Suite("HTTP listener over real sockets")
struct ListenerTests {
    /// Runs a listener (with `hub`'s API, or none) in front of an in-process broker around `body`.
    static func withListener(
        hub: TestHub? = nil, tls: NIOSSLContext? = nil, _ configure: (inout HTTPListener.Configuration) -> Void = { _ in },
        _ body: (_ port: Int, _ broker: BrokerHarness) async throws -> Void
    ) async throws {
        let harness = BrokerHarness()
        try await harness.start()
        var configuration = HTTPListener.Configuration(
            name: tls == nil ? "http" : "https", host: "127.0.0.1", port: 0, tls: tls, webSocketPaths: ["/mqtt", "/$iothub/websocket"])
        configure(&configuration)
        var logger = Logger(label: "test-listener")
        logger.logLevel = .warning
        let router = hub?.api.makeRouter(webSocketPaths: configuration.webSocketPaths)
            ?? ServiceAPI.makeEmptyRouter(webSocketPaths: configuration.webSocketPaths, logger: logger)
        let listener = HTTPListener(
            configuration: configuration, router: router, broker: harness.broker, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [listener], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(try await listener.bound().port)
            do {
                try await body(port, harness)
            } catch {
                await group.triggerGracefulShutdown()
                await harness.shutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            await harness.shutdown()
            try await tasks.waitForAll()
        }
    }

    static let connack311: [UInt8] = [0x82, 0x04, 0x20, 0x02, 0x00, 0x00]

    @Test("MQTT over WebSocket on every MQTT path, with or without a query, reaches the broker", arguments: ["/mqtt", "/mqtt?x=1", "/$iothub/websocket", "/%24iothub/websocket"])
    func mqttOverWebSocket(path: String) async throws {
        try await Self.withListener { port, broker in
            let subscriber = try await broker.client(.v3_1_1)
            try await subscriber.connect(clientID: "tcp-subscriber")
            try await subscriber.subscribe("ws/topic", qos: .atMostOnce)

            let ws = try await RawConnection.open(port: port)
            try await ws.send(WebSocketFrames.upgradeRequest(path: path))
            let head = try await ws.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
            #expect(head.lowercased().contains("sec-websocket-protocol: mqtt"))
            let headLength = head.utf8.count
            try await ws.send(WebSocketFrames.binary(WebSocketFrames.connect(clientID: "ws-client")))
            let (afterConnect, _) = try await ws.read { $0.count >= headLength + Self.connack311.count }
            #expect(Array(afterConnect.suffix(from: headLength)) == Self.connack311)
            // QoS 0 PUBLISH "ws/topic" "hi".
            let topic = Array("ws/topic".utf8)
            let publish: [UInt8] = [0x30, UInt8(2 + topic.count + 2), 0x00, UInt8(topic.count)] + topic + Array("hi".utf8)
            try await ws.send(WebSocketFrames.binary(publish))
            let received = try await subscriber.receivePublish()
            #expect(received.topic == "ws/topic")
            #expect(received.payload == ByteBuffer(string: "hi"))
            await ws.close()
        }
    }

    @Test("upgrades elsewhere or with a foreign subprotocol are refused with a JSON 400 and closed")
    func refusedUpgrades() async throws {
        try await Self.withListener { port, _ in
            for (path, subprotocol) in [("/devices", "mqtt"), ("/mqtt", "chat")] {
                let connection = try await RawConnection.open(port: port)
                try await connection.send(WebSocketFrames.upgradeRequest(path: path, subprotocol: subprotocol))
                let (bytes, closed) = try await connection.read()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(text)")
                #expect(text.contains("iothub-errorcode: ArgumentInvalid"))
                #expect(closed)
            }
        }
    }

    @Test("H21: Content-Length with Transfer-Encoding is a JSON 400 and a close, on the first request or a later one")
    func smuggling() async throws {
        try await Self.withListener { port, _ in
            let smuggled = "POST /devices HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            for prefix in ["", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"] {
                let connection = try await RawConnection.open(port: port)
                try await connection.send(prefix + smuggled)
                let (bytes, closed) = try await connection.read()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.contains("HTTP/1.1 400 Bad Request"), "\(text)")
                #expect(text.contains(#"\"errorCode\":400004"#))
                #expect(closed)
            }
        }
    }

    @Test("H12: too many headers or one huge header is a JSON 431 and a close")
    func headerLimits() async throws {
        try await Self.withListener { port, _ in
            let many = "GET /devices HTTP/1.1\r\nHost: x\r\n" + (0..<200).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
            let huge = "GET /devices HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"
            for request in [many, huge] {
                let connection = try await RawConnection.open(port: port)
                try? await connection.send(request)
                let (bytes, closed) = try await connection.read()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 431"), "\(text.prefix(200))")
                #expect(closed)
            }
        }
    }

    @Test("H11: a stalled handshake, a stalled first request and a stalled body are closed at the request deadline")
    func deadlines() async throws {
        try await Self.withListener({ $0.requestTimeout = .milliseconds(500); $0.idleTimeout = .milliseconds(500) }) { port, _ in
            let silent = try await RawConnection.open(port: port)
            let (nothing, closedSilent) = try await silent.read(timeout: .seconds(5))
            #expect(nothing.isEmpty && closedSilent)

            let partialHead = try await RawConnection.open(port: port)
            try await partialHead.send("GET /devices HTTP/1.1\r\nHost: x\r\n")
            #expect(try await partialHead.read(timeout: .seconds(5)).closed)

            let slowBody = try await RawConnection.open(port: port)
            try await slowBody.send("PUT /devices/dev1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"dev")
            let start = ContinuousClock.now
            #expect(try await slowBody.read(timeout: .seconds(5)).closed)
            #expect(ContinuousClock.now - start < .seconds(3))

            let idle = try await RawConnection.open(port: port)
            try await idle.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            let (answer, closedIdle) = try await idle.read(timeout: .seconds(5))
            #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 404"))
            #expect(closedIdle)
        }
    }

    @Test("H8: a chunked body over the limit is refused with 413 while it streams, and the connection closed")
    func streamingLimit() async throws {
        let hub = try await TestHub.make(maximumBodySize: 4096)
        try await Self.withListener(hub: hub) { port, _ in
            let connection = try await RawConnection.open(port: port)
            try await connection.send(
                "PUT /devices/dev1?api-version=2021-04-12 HTTP/1.1\r\nHost: localhost\r\nAuthorization: \(hub.token())\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = String(repeating: "x", count: 1000)
            for _ in 0..<8 {
                // The server may answer and close before every chunk is out: a failed send is expected then.
                do {
                    try await connection.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n")
                } catch {
                    break
                }
            }
            // No terminating chunk: the answer must come anyway.
            let (bytes, closed) = try await connection.read(timeout: .seconds(5)) { _ in false }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 413"), "\(text)")
            #expect(text.contains("iothub-errorcode: MessageTooLarge"))
            #expect(closed)
        }
    }

    @Test("the IP filter closes denied clients before reading anything; allowed ones are served")
    func ipFilter() async throws {
        try await Self.withListener({ $0.ipFilter = IPFilter(rules: [IPFilter.parseRule("deny 127.0.0.0/8")!]) }) { port, _ in
            let denied = try await RawConnection.open(port: port)
            try? await denied.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            let (bytes, closed) = try await denied.read(timeout: .seconds(5))
            #expect(bytes.isEmpty && closed)
        }
        try await Self.withListener({ $0.ipFilter = IPFilter(rules: [IPFilter.parseRule("allow 127.0.0.1")!], defaultAllow: false) }) { port, _ in
            let allowed = try await RawConnection.open(port: port)
            try await allowed.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await allowed.readHead().hasPrefix("HTTP/1.1 404"))
        }
    }

    @Test("HTTPS with a certificate made at test time: the REST API and MQTT over secure WebSocket on one port")
    func tls() async throws {
        guard ProcessRunner.isAvailable("openssl") else { return }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try await TestPKI.makeCA(in: dir.path, name: "ca")
        let server = try await TestPKI.makeLeaf(in: dir.path, name: "server", commonName: "localhost", issuer: ca, serverNames: ["localhost", "127.0.0.1"])
        var serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(server.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: server.key, format: .pem)))
        serverTLS.minimumTLSVersion = .tlsv12
        serverTLS.certificateVerification = .optionalVerification
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.trustRoots = .file(ca.certificate)
        let clientContext = try NIOSSLContext(configuration: clientTLS)
        let hub = try await TestHub.make()
        try await Self.withListener(hub: hub, tls: try NIOSSLContext(configuration: serverTLS)) { port, _ in
            let rest = try await RawConnection.open(port: port, tls: clientContext)
            try await rest.send("GET /devices?api-version=2021-04-12 HTTP/1.1\r\nHost: localhost:\(port)\r\nAuthorization: \(hub.token())\r\n\r\n")
            let (bytes, _) = try await rest.read { $0.containsSubsequence(Array("[]".utf8)) }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
            await rest.close()

            let wss = try await RawConnection.open(port: port, tls: clientContext)
            try await wss.send(WebSocketFrames.upgradeRequest(path: "/$iothub/websocket"))
            let head = try await wss.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
            try await wss.send(WebSocketFrames.binary(WebSocketFrames.connect(clientID: "wss-client")))
            let (afterConnect, _) = try await wss.read { $0.count >= head.utf8.count + Self.connack311.count }
            #expect(Array(afterConnect.suffix(Self.connack311.count)) == Self.connack311)
            await wss.close()
        }
    }
}
