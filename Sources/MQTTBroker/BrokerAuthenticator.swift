import MQTTCodec
import NIOCore

/// What the broker knows about a connecting client when it asks for a decision.
public struct ConnectRequest: Sendable {
    public var clientID: String
    public var username: String?
    /// Raw password bytes; never logged.
    public var password: ByteBuffer?
    public var protocolVersion: MQTTProtocolVersion
    public var remoteAddress: SocketAddress?
    /// The listener's name (e.g. `mqtt`, `mqtts`, `ws`, `wss`).
    public var listenerName: String
    /// DER bytes of the verified client certificate chain, leaf first, when the TLS peer presented one.
    public var peerCertificateChainDER: [[UInt8]]

    public init(
        clientID: String, username: String?, password: ByteBuffer?, protocolVersion: MQTTProtocolVersion,
        remoteAddress: SocketAddress?, listenerName: String, peerCertificateChainDER: [[UInt8]] = []
    ) {
        self.clientID = clientID
        self.username = username
        self.password = password
        self.protocolVersion = protocolVersion
        self.remoteAddress = remoteAddress
        self.listenerName = listenerName
        self.peerCertificateChainDER = peerCertificateChainDER
    }
}

extension ConnectRequest: CustomStringConvertible {
    /// Never prints the password or certificate bytes.
    public var description: String {
        "ConnectRequest(clientID: \(clientID), username: \(username == nil ? "none" : "<set>"), password: "
            + (password == nil ? "none" : "<redacted>") + ", version: \(protocolVersion.rawValue), listener: \(listenerName), "
            + "certificates: \(peerCertificateChainDER.count))"
    }
}

/// Per-connection rights decided at CONNECT time.
public protocol TopicAuthorizer: Sendable {
    func mayPublish(to topic: String) -> Bool
    /// `filter` is the filter proper (after any `$share/{group}/` prefix).
    func maySubscribe(to filter: MQTTTopicFilter) -> Bool
}

/// Grants everything (anonymous development mode).
public struct AllowAllAuthorizer: TopicAuthorizer {
    public init() {}
    public func mayPublish(to topic: String) -> Bool { true }
    public func maySubscribe(to filter: MQTTTopicFilter) -> Bool { true }
}

/// What an accepted client may do, and for how long.
public struct ConnectGrant: Sendable {
    /// The client's topic rights.
    public var authorizer: any TopicAuthorizer
    /// The highest QoS it may use (Azure device connections get 1; QoS 2 then closes the connection).
    public var maximumQoS: MQTTQoS
    /// How long the credential stays valid (a SAS token's expiry): the broker closes the connection
    /// then (5.0: DISCONNECT 0xA0 Maximum connect time). nil = no limit.
    public var validFor: Duration?
    /// Who the client is, for logs (never a secret): `device dev1`, `user alice`, `anonymous`.
    public var principal: String
    /// Whatever the authenticator needs later to re-check this connection (`MQTTBroker.revalidate`) or
    /// to report it to observers; opaque to the broker.
    public var context: (any Sendable)?
    /// Sees every PUBLISH of this client before routing (the Azure device protocol); nil routes as usual.
    public var interceptor: (any PublishInterceptor)?

    public init(
        authorizer: any TopicAuthorizer, maximumQoS: MQTTQoS, validFor: Duration? = nil, principal: String = "anonymous",
        context: (any Sendable)? = nil, interceptor: (any PublishInterceptor)? = nil
    ) {
        self.authorizer = authorizer
        self.maximumQoS = maximumQoS
        self.validFor = validFor
        self.principal = principal
        self.context = context
        self.interceptor = interceptor
    }
}

/// The outcome of authentication.
public enum ConnectDecision: Sendable {
    /// Accept with these rights.
    case accept(ConnectGrant)
    /// Refuse with a 5.0 reason code (mapped to a 3.1.1 return code for older clients).
    case reject(MQTTReasonCode)

    /// Accept with `authorizer` and `maximumQoS`, no expiry.
    public static func accept(authorizer: any TopicAuthorizer, maximumQoS: MQTTQoS) -> ConnectDecision {
        .accept(ConnectGrant(authorizer: authorizer, maximumQoS: maximumQoS))
    }
}

/// Told when clients come and go (the registry records connection state from it). Called on event
/// loops: keep it quick and non-blocking.
public protocol BrokerObserver: Sendable {
    /// A client finished CONNECT (CONNACK sent).
    func clientConnected(clientID: String, grant: ConnectGrant)
    /// A client that had connected is gone (any reason).
    func clientDisconnected(clientID: String, grant: ConnectGrant)
    /// The client acknowledged (PUBACK / PUBCOMP) a message that was queued with a `deliveryTag`.
    func messageAcknowledged(clientID: String, deliveryTag: UInt64)
    /// The client's SUBSCRIBE was applied; `filters` are those granted (as sent, `$share/…` included).
    func clientSubscribed(clientID: String, filters: [String])
}

extension BrokerObserver {
    public func messageAcknowledged(clientID: String, deliveryTag: UInt64) {}
    public func clientSubscribed(clientID: String, filters: [String]) {}
}

/// Decides who may connect. Called once per CONNECT, off the event loop's hot path.
public protocol BrokerAuthenticator: Sendable {
    func authenticate(_ request: ConnectRequest) async -> ConnectDecision
    /// A decision available without suspending (e.g. from an in-memory cache), or nil to fall back to
    /// `authenticate`. Lets connection storms skip a task hop per CONNECT.
    func decideImmediately(_ request: ConnectRequest) -> ConnectDecision?
}

extension BrokerAuthenticator {
    public func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? { nil }
}

/// Accepts clients without credentials when `allowAnonymous` is set; refuses everyone else with
/// 0x87 Not authorized (3.1.1: 0x05). Later identity modules replace it.
public struct AnonymousAuthenticator: BrokerAuthenticator {
    public var allowAnonymous: Bool
    public init(allowAnonymous: Bool) { self.allowAnonymous = allowAnonymous }
    public func authenticate(_ request: ConnectRequest) async -> ConnectDecision {
        decideImmediately(request)!
    }
    public func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? {
        allowAnonymous ? .accept(authorizer: AllowAllAuthorizer(), maximumQoS: .exactlyOnce) : .reject(.notAuthorized)
    }
}
