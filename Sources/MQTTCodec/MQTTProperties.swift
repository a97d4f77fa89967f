import NIOCore

/// The property block of an MQTT 5.0 packet, kept in wire order.
///
/// Stored as an array (empty and allocation-free for the common case of a 3.1.1 or property-less
/// packet) with typed accessors for the properties the broker reads and writes.
public struct MQTTProperties: Sendable, Hashable, ExpressibleByArrayLiteral {
    public var elements: [MQTTProperty]

    @inlinable public init() { self.elements = [] }
    @inlinable public init(_ elements: [MQTTProperty]) { self.elements = elements }
    @inlinable public init(arrayLiteral elements: MQTTProperty...) { self.elements = elements }

    @inlinable public var isEmpty: Bool { elements.isEmpty }
    @inlinable public var count: Int { elements.count }

    /// Replaces the property with the same identifier, or appends it; `nil` removes it.
    @usableFromInline
    mutating func set(_ id: MQTTPropertyIdentifier, _ value: MQTTProperty?) {
        elements.removeAll { $0.identifier == id }
        if let value { elements.append(value) }
    }

    // MARK: typed accessors
    public var payloadFormatIndicator: UInt8? {
        get { for case .payloadFormatIndicator(let v) in elements { return v }; return nil }
        set { set(.payloadFormatIndicator, newValue.map { .payloadFormatIndicator($0) }) }
    }
    public var messageExpiryInterval: UInt32? {
        get { for case .messageExpiryInterval(let v) in elements { return v }; return nil }
        set { set(.messageExpiryInterval, newValue.map { .messageExpiryInterval($0) }) }
    }
    public var contentType: String? {
        get { for case .contentType(let v) in elements { return v }; return nil }
        set { set(.contentType, newValue.map { .contentType($0) }) }
    }
    public var responseTopic: String? {
        get { for case .responseTopic(let v) in elements { return v }; return nil }
        set { set(.responseTopic, newValue.map { .responseTopic($0) }) }
    }
    public var correlationData: ByteBuffer? {
        get { for case .correlationData(let v) in elements { return v }; return nil }
        set { set(.correlationData, newValue.map { .correlationData($0) }) }
    }
    /// All Subscription Identifiers (a server-to-client PUBLISH may carry several).
    public var subscriptionIdentifiers: [UInt32] {
        get { elements.compactMap { if case .subscriptionIdentifier(let v) = $0 { return v } else { return nil } } }
        set {
            elements.removeAll { $0.identifier == .subscriptionIdentifier }
            elements.append(contentsOf: newValue.map { .subscriptionIdentifier($0) })
        }
    }
    public var sessionExpiryInterval: UInt32? {
        get { for case .sessionExpiryInterval(let v) in elements { return v }; return nil }
        set { set(.sessionExpiryInterval, newValue.map { .sessionExpiryInterval($0) }) }
    }
    public var assignedClientIdentifier: String? {
        get { for case .assignedClientIdentifier(let v) in elements { return v }; return nil }
        set { set(.assignedClientIdentifier, newValue.map { .assignedClientIdentifier($0) }) }
    }
    public var serverKeepAlive: UInt16? {
        get { for case .serverKeepAlive(let v) in elements { return v }; return nil }
        set { set(.serverKeepAlive, newValue.map { .serverKeepAlive($0) }) }
    }
    public var authenticationMethod: String? {
        get { for case .authenticationMethod(let v) in elements { return v }; return nil }
        set { set(.authenticationMethod, newValue.map { .authenticationMethod($0) }) }
    }
    public var authenticationData: ByteBuffer? {
        get { for case .authenticationData(let v) in elements { return v }; return nil }
        set { set(.authenticationData, newValue.map { .authenticationData($0) }) }
    }
    public var requestProblemInformation: UInt8? {
        get { for case .requestProblemInformation(let v) in elements { return v }; return nil }
        set { set(.requestProblemInformation, newValue.map { .requestProblemInformation($0) }) }
    }
    public var willDelayInterval: UInt32? {
        get { for case .willDelayInterval(let v) in elements { return v }; return nil }
        set { set(.willDelayInterval, newValue.map { .willDelayInterval($0) }) }
    }
    public var requestResponseInformation: UInt8? {
        get { for case .requestResponseInformation(let v) in elements { return v }; return nil }
        set { set(.requestResponseInformation, newValue.map { .requestResponseInformation($0) }) }
    }
    public var responseInformation: String? {
        get { for case .responseInformation(let v) in elements { return v }; return nil }
        set { set(.responseInformation, newValue.map { .responseInformation($0) }) }
    }
    public var serverReference: String? {
        get { for case .serverReference(let v) in elements { return v }; return nil }
        set { set(.serverReference, newValue.map { .serverReference($0) }) }
    }
    public var reasonString: String? {
        get { for case .reasonString(let v) in elements { return v }; return nil }
        set { set(.reasonString, newValue.map { .reasonString($0) }) }
    }
    public var receiveMaximum: UInt16? {
        get { for case .receiveMaximum(let v) in elements { return v }; return nil }
        set { set(.receiveMaximum, newValue.map { .receiveMaximum($0) }) }
    }
    public var topicAliasMaximum: UInt16? {
        get { for case .topicAliasMaximum(let v) in elements { return v }; return nil }
        set { set(.topicAliasMaximum, newValue.map { .topicAliasMaximum($0) }) }
    }
    public var topicAlias: UInt16? {
        get { for case .topicAlias(let v) in elements { return v }; return nil }
        set { set(.topicAlias, newValue.map { .topicAlias($0) }) }
    }
    public var maximumQoS: UInt8? {
        get { for case .maximumQoS(let v) in elements { return v }; return nil }
        set { set(.maximumQoS, newValue.map { .maximumQoS($0) }) }
    }
    public var retainAvailable: UInt8? {
        get { for case .retainAvailable(let v) in elements { return v }; return nil }
        set { set(.retainAvailable, newValue.map { .retainAvailable($0) }) }
    }
    /// User properties in order; names may repeat. [MQTT-3.3.2-18]
    public var userProperties: [(name: String, value: String)] {
        get { elements.compactMap { if case .userProperty(let n, let v) = $0 { return (n, v) } else { return nil } } }
        set {
            elements.removeAll { $0.identifier == .userProperty }
            elements.append(contentsOf: newValue.map { .userProperty(name: $0.name, value: $0.value) })
        }
    }
    public var maximumPacketSize: UInt32? {
        get { for case .maximumPacketSize(let v) in elements { return v }; return nil }
        set { set(.maximumPacketSize, newValue.map { .maximumPacketSize($0) }) }
    }
    public var wildcardSubscriptionAvailable: UInt8? {
        get { for case .wildcardSubscriptionAvailable(let v) in elements { return v }; return nil }
        set { set(.wildcardSubscriptionAvailable, newValue.map { .wildcardSubscriptionAvailable($0) }) }
    }
    public var subscriptionIdentifierAvailable: UInt8? {
        get { for case .subscriptionIdentifierAvailable(let v) in elements { return v }; return nil }
        set { set(.subscriptionIdentifierAvailable, newValue.map { .subscriptionIdentifierAvailable($0) }) }
    }
    public var sharedSubscriptionAvailable: UInt8? {
        get { for case .sharedSubscriptionAvailable(let v) in elements { return v }; return nil }
        set { set(.sharedSubscriptionAvailable, newValue.map { .sharedSubscriptionAvailable($0) }) }
    }
}
