import NIOCore
import NIOSSL

/// How a listener carries MQTT. (MQTT over WebSockets comes through the hub's HTTP listeners:
/// `MQTTBroker.configureWebSocketConnection`.)
public enum MQTTTransport: Sendable {
    /// MQTT over plain TCP.
    case tcp
    /// MQTT over TLS. A client certificate, if presented, is accepted at the TLS layer and handed to the
    /// authenticator (`ConnectRequest.peerCertificateChainDER`), which decides.
    case tls(NIOSSLContext)
}

/// One socket the broker listens on.
public struct MQTTListenerConfiguration: Sendable {
    /// Short name for logs and metrics (`mqtt`, `mqtts`, `http`, `https`).
    public var name: String
    public var host: String
    /// 0 picks a free port (see `MQTTBoundListener.localAddress`).
    public var port: Int
    public var transport: MQTTTransport

    public init(name: String, host: String, port: Int, transport: MQTTTransport) {
        self.name = name
        self.host = host
        self.port = port
        self.transport = transport
    }
}
