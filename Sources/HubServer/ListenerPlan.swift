import MQTTBroker
import NIOSSL

/// One listener `meridian serve` opens: name, address and transport, decided from the configuration
/// alone (so it can be checked without binding anything).
public struct ListenerPlan: Sendable, Hashable {
    /// What the listener serves. `tcp` and `tls` are the broker's own listeners; `http` and `https` are
    /// HubHTTPAPI's `HTTPListener`s (the REST API, and MQTT over WebSockets at `webSocketPaths`).
    public enum Kind: Sendable, Hashable {
        case tcp
        case tls
        case http(webSocketPaths: [String])
        case https(webSocketPaths: [String])

        public var needsTLS: Bool {
            switch self {
            case .tcp, .http: false
            case .tls, .https: true
            }
        }

        /// The WebSocket paths of an HTTP listener; nil for the broker's listeners.
        public var webSocketPaths: [String]? {
            switch self {
            case .tcp, .tls: nil
            case .http(let paths), .https(let paths): paths
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
        case .http(let paths): "REST API, MQTT over WebSocket at \(paths.joined(separator: ", "))"
        case .https(let paths): "REST API, MQTT over WebSocket over TLS at \(paths.joined(separator: ", "))"
        }
    }

    /// The broker's listener configuration for `tcp` and `tls`; `tls` must be set when `kind.needsTLS`.
    /// Nil for the HTTP listeners, which HubHTTPAPI serves.
    public func listenerConfiguration(tls: NIOSSLContext?) -> MQTTListenerConfiguration? {
        let transport: MQTTTransport
        switch kind {
        case .tcp: transport = .tcp
        case .tls: transport = .tls(tls!)
        case .http, .https: return nil
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
                kind: .http(webSocketPaths: Self.httpWebSocketPaths)),
            ListenerPlan(
                name: "https", portKey: .httpsPort, host: bind, port: httpsPort,
                kind: .https(webSocketPaths: Self.httpsWebSocketPaths)),
        ]
        return all.filter { $0.port != 0 }
    }
}
