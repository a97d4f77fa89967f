import NIOCore

/// CONNECT (spec 3.1.1 §3.1, 5.0 §3.1): the first packet a client sends.
public struct MQTTConnect: Sendable, Hashable {
    public var protocolVersion: MQTTProtocolVersion
    /// 3.1.1 "Clean Session" / 5.0 "Clean Start".
    public var cleanStart: Bool
    /// Keep Alive in seconds; 0 turns the mechanism off.
    public var keepAlive: UInt16
    public var properties: MQTTProperties
    /// May be empty (the server assigns one when it allows that).
    public var clientID: String
    public var will: MQTTWill?
    public var username: String?
    /// Binary data; kept out of `description` so credentials never reach a log.
    public var password: ByteBuffer?

    public init(
        protocolVersion: MQTTProtocolVersion = .v5,
        cleanStart: Bool = true,
        keepAlive: UInt16 = 60,
        properties: MQTTProperties = [],
        clientID: String,
        will: MQTTWill? = nil,
        username: String? = nil,
        password: ByteBuffer? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.properties = properties
        self.clientID = clientID
        self.will = will
        self.username = username
        self.password = password
    }
}

extension MQTTConnect: CustomStringConvertible {
    /// Never prints the password.
    public var description: String {
        "CONNECT(v\(protocolVersion.rawValue), clientID: \(clientID), cleanStart: \(cleanStart), keepAlive: \(keepAlive)"
            + (username != nil ? ", username: <set>" : "") + (password != nil ? ", password: <redacted>" : "")
            + (will != nil ? ", will: \(will!.topic)" : "") + ")"
    }
}

/// The Will message carried in CONNECT and published when the connection ends abnormally.
public struct MQTTWill: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool
    /// Will properties (5.0 only): Will Delay Interval, Payload Format, Message Expiry, Content Type,
    /// Response Topic, Correlation Data, User Properties.
    public var properties: MQTTProperties

    public init(topic: String, payload: ByteBuffer, qos: MQTTQoS = .atMostOnce, retain: Bool = false, properties: MQTTProperties = []) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}
