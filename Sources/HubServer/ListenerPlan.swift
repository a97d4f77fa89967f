import MQTTBroker
import NIOSSL

/// One listener `meridian serve` opens: name, address and transport, decided from the configuration
/// alone (so it can be checked without binding anything).
public struct ListenerPlan: Sendable, Hashable {
    /// How the listener carries MQTT.
    public enum Kind: Sendable, Hashable {
        case tcp
        case tls
        case webSocket(paths: [String])
        case secureWebSocket(paths: [String])

        public var needsTLS: Bool {
            switch self {
            case .tcp, .webSocket: false
            case .tls, .secureWebSocket: true
            }
        }
    }

    /// `mqtt`, `mqtts`, `http` or `https`, as in logs and metrics.
    public var name: String
    /// The setting that gives its port (for error messages).
    public var portKey: HubConfiguration.Key
    public var host: String
    public var port: Int
    public var kind: Kind

    /// What a client finds there, for the startup log line.
    public var description: String {
        switch kind {
        case .tcp: "MQTT"
        case .tls: "MQTT over TLS"
        case .webSocket(let paths): "MQTT over WebSocket at \(paths.joined(separator: ", "))"
        case .secureWebSocket(let paths): "MQTT over WebSocket over TLS at \(paths.joined(separator: ", "))"
        }
    }

    /// The broker's listener configuration; `tls` must be set when `kind.needsTLS`.
    public func listenerConfiguration(tls: NIOSSLContext?) -> MQTTListenerConfiguration {
        let transport: MQTTTransport
        switch kind {
        case .tcp: transport = .tcp
        case .tls: transport = .tls(tls!)
        case .webSocket(let paths): transport = .webSocket(paths: paths, tls: nil)
        case .secureWebSocket(let paths): transport = .webSocket(paths: paths, tls: tls!)
        }
        return MQTTListenerConfiguration(name: name, host: host, port: port, transport: transport)
    }

    /// The log line for a bound listener: `listener <name> on <host>:<port> (<description>)`.
    public func logLine(boundPort: Int) -> String {
        "listener \(name) on \(Self.hostPort(host, boundPort)) (\(description))"
    }

    /// `host:port`, with IPv6 literals in brackets.
    static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension HubConfiguration {
    /// WebSocket paths of the plain HTTP listener.
    public static let httpWebSocketPaths = ["/mqtt"]
    /// WebSocket paths of the HTTPS listener; `/$iothub/websocket` is where the Azure IoT SDKs connect.
    public static let httpsWebSocketPaths = ["/mqtt", "/$iothub/websocket"]

    /// The enabled listeners (port ≠ 0), in the order they are bound.
    public var listenerPlan: [ListenerPlan] {
        let all = [
            ListenerPlan(name: "mqtt", portKey: .mqttPort, host: plainBind, port: mqttPort, kind: .tcp),
            ListenerPlan(name: "mqtts", portKey: .mqttsPort, host: bind, port: mqttsPort, kind: .tls),
            ListenerPlan(
                name: "http", portKey: .httpPort, host: plainBind, port: httpPort,
                kind: .webSocket(paths: Self.httpWebSocketPaths)),
            ListenerPlan(
                name: "https", portKey: .httpsPort, host: bind, port: httpsPort,
                kind: .secureWebSocket(paths: Self.httpsWebSocketPaths)),
        ]
        return all.filter { $0.port != 0 }
    }
}
