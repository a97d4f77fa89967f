/// Which properties may appear where: MQTT 5.0 table 2-4, one bit per property identifier.
extension MQTTPropertyContext {
    /// A set of property identifiers as a bit mask (every identifier is below 64).
    struct IdentifierSet: Sendable, Hashable {
        var bits: UInt64

        init(bits: UInt64) { self.bits = bits }

        init(_ ids: MQTTPropertyIdentifier...) {
            var bits: UInt64 = 0
            for id in ids { bits |= 1 << UInt64(id.rawValue) }
            self.bits = bits
        }

        @inline(__always)
        func contains(_ id: MQTTPropertyIdentifier) -> Bool { bits & (1 << UInt64(id.rawValue)) != 0 }

        @inline(__always)
        mutating func insert(_ id: MQTTPropertyIdentifier) { bits |= 1 << UInt64(id.rawValue) }
    }

    private static let connectSet = IdentifierSet(
        .sessionExpiryInterval, .authenticationMethod, .authenticationData, .requestProblemInformation,
        .requestResponseInformation, .receiveMaximum, .topicAliasMaximum, .userProperty, .maximumPacketSize)
    /// Will Properties (5.0 §3.1.3.2); anything else in a Will is the CVE-2023-3592 trigger.
    private static let willSet = IdentifierSet(
        .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData,
        .willDelayInterval, .userProperty)
    private static let connAckSet = IdentifierSet(
        .sessionExpiryInterval, .assignedClientIdentifier, .serverKeepAlive, .authenticationMethod,
        .authenticationData, .responseInformation, .serverReference, .reasonString, .receiveMaximum,
        .topicAliasMaximum, .maximumQoS, .retainAvailable, .userProperty, .maximumPacketSize,
        .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable)
    private static let publishSet = IdentifierSet(
        .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData,
        .subscriptionIdentifier, .topicAlias, .userProperty)
    /// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK.
    private static let ackSet = IdentifierSet(.reasonString, .userProperty)
    private static let subscribeSet = IdentifierSet(.subscriptionIdentifier, .userProperty)
    private static let unsubscribeSet = IdentifierSet(.userProperty)
    private static let disconnectSet = IdentifierSet(
        .sessionExpiryInterval, .serverReference, .reasonString, .userProperty)
    private static let authSet = IdentifierSet(
        .authenticationMethod, .authenticationData, .reasonString, .userProperty)

    /// The properties that are valid in this context (5.0 table 2-4). A property outside this set is a
    /// Malformed Packet: "A Control Packet which contains an Identifier which is not valid for its packet
    /// type ... is a Malformed Packet" (5.0 §2.2.2.2).
    var allowedProperties: IdentifierSet {
        switch self {
        case .connect: return Self.connectSet
        case .will: return Self.willSet
        case .connAck: return Self.connAckSet
        case .publish: return Self.publishSet
        case .pubAck, .pubRec, .pubRel, .pubComp, .subAck, .unsubAck: return Self.ackSet
        case .subscribe: return Self.subscribeSet
        case .unsubscribe: return Self.unsubscribeSet
        case .disconnect: return Self.disconnectSet
        case .auth: return Self.authSet
        }
    }

    /// True if `id` may appear more than once here: User Property anywhere, Subscription Identifier only
    /// in PUBLISH (5.0 §3.3.2.3.8; once in SUBSCRIBE, §3.8.2.1.2).
    @inline(__always)
    func allowsRepeated(_ id: MQTTPropertyIdentifier) -> Bool {
        id == .userProperty || (id == .subscriptionIdentifier && self == .publish)
    }

    /// Returns true if `property` may appear in this context.
    public func allows(_ property: MQTTPropertyIdentifier) -> Bool { allowedProperties.contains(property) }
}
