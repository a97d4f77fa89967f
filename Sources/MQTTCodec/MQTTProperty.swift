import NIOCore

/// One MQTT 5.0 property (spec §2.2.2.2). Values keep the wire type of their identifier.
public enum MQTTProperty: Sendable, Hashable {
    case payloadFormatIndicator(UInt8)          // 0x01 byte
    case messageExpiryInterval(UInt32)          // 0x02 four-byte integer
    case contentType(String)                    // 0x03 UTF-8 string
    case responseTopic(String)                  // 0x08 UTF-8 string
    case correlationData(ByteBuffer)            // 0x09 binary data
    case subscriptionIdentifier(UInt32)         // 0x0B variable byte integer (1 ... 268,435,455)
    case sessionExpiryInterval(UInt32)          // 0x11 four-byte integer
    case assignedClientIdentifier(String)       // 0x12 UTF-8 string
    case serverKeepAlive(UInt16)                // 0x13 two-byte integer
    case authenticationMethod(String)           // 0x15 UTF-8 string
    case authenticationData(ByteBuffer)         // 0x16 binary data
    case requestProblemInformation(UInt8)       // 0x17 byte
    case willDelayInterval(UInt32)              // 0x18 four-byte integer
    case requestResponseInformation(UInt8)      // 0x19 byte
    case responseInformation(String)            // 0x1A UTF-8 string
    case serverReference(String)                // 0x1C UTF-8 string
    case reasonString(String)                   // 0x1F UTF-8 string
    case receiveMaximum(UInt16)                 // 0x21 two-byte integer
    case topicAliasMaximum(UInt16)              // 0x22 two-byte integer
    case topicAlias(UInt16)                     // 0x23 two-byte integer
    case maximumQoS(UInt8)                      // 0x24 byte
    case retainAvailable(UInt8)                 // 0x25 byte
    case userProperty(name: String, value: String)  // 0x26 UTF-8 string pair; may repeat
    case maximumPacketSize(UInt32)              // 0x27 four-byte integer
    case wildcardSubscriptionAvailable(UInt8)   // 0x28 byte
    case subscriptionIdentifierAvailable(UInt8) // 0x29 byte
    case sharedSubscriptionAvailable(UInt8)     // 0x2A byte

    /// The property identifier written on the wire.
    public var identifier: MQTTPropertyIdentifier {
        switch self {
        case .payloadFormatIndicator: return .payloadFormatIndicator
        case .messageExpiryInterval: return .messageExpiryInterval
        case .contentType: return .contentType
        case .responseTopic: return .responseTopic
        case .correlationData: return .correlationData
        case .subscriptionIdentifier: return .subscriptionIdentifier
        case .sessionExpiryInterval: return .sessionExpiryInterval
        case .assignedClientIdentifier: return .assignedClientIdentifier
        case .serverKeepAlive: return .serverKeepAlive
        case .authenticationMethod: return .authenticationMethod
        case .authenticationData: return .authenticationData
        case .requestProblemInformation: return .requestProblemInformation
        case .willDelayInterval: return .willDelayInterval
        case .requestResponseInformation: return .requestResponseInformation
        case .responseInformation: return .responseInformation
        case .serverReference: return .serverReference
        case .reasonString: return .reasonString
        case .receiveMaximum: return .receiveMaximum
        case .topicAliasMaximum: return .topicAliasMaximum
        case .topicAlias: return .topicAlias
        case .maximumQoS: return .maximumQoS
        case .retainAvailable: return .retainAvailable
        case .userProperty: return .userProperty
        case .maximumPacketSize: return .maximumPacketSize
        case .wildcardSubscriptionAvailable: return .wildcardSubscriptionAvailable
        case .subscriptionIdentifierAvailable: return .subscriptionIdentifierAvailable
        case .sharedSubscriptionAvailable: return .sharedSubscriptionAvailable
        }
    }
}

/// Property identifiers of MQTT 5.0 (spec table 2-4).
public enum MQTTPropertyIdentifier: UInt8, Sendable, Hashable, CaseIterable {
    case payloadFormatIndicator = 0x01
    case messageExpiryInterval = 0x02
    case contentType = 0x03
    case responseTopic = 0x08
    case correlationData = 0x09
    case subscriptionIdentifier = 0x0B
    case sessionExpiryInterval = 0x11
    case assignedClientIdentifier = 0x12
    case serverKeepAlive = 0x13
    case authenticationMethod = 0x15
    case authenticationData = 0x16
    case requestProblemInformation = 0x17
    case willDelayInterval = 0x18
    case requestResponseInformation = 0x19
    case responseInformation = 0x1A
    case serverReference = 0x1C
    case reasonString = 0x1F
    case receiveMaximum = 0x21
    case topicAliasMaximum = 0x22
    case topicAlias = 0x23
    case maximumQoS = 0x24
    case retainAvailable = 0x25
    case userProperty = 0x26
    case maximumPacketSize = 0x27
    case wildcardSubscriptionAvailable = 0x28
    case subscriptionIdentifierAvailable = 0x29
    case sharedSubscriptionAvailable = 0x2A

    /// Only User Property may appear more than once in any packet, and Subscription Identifier more than
    /// once only in a server-to-client PUBLISH. Everything else repeated is a protocol error.
    public var mayRepeat: Bool { self == .userProperty || self == .subscriptionIdentifier }
}

/// Where in a packet a property block appears; legality of each property is checked per context.
public enum MQTTPropertyContext: Sendable, Hashable {
    case connect, will, connAck, publish, pubAck, pubRec, pubRel, pubComp
    case subscribe, subAck, unsubscribe, unsubAck, disconnect, auth
}
