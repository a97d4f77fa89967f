import HubTestKit
import MQTTCodec
import NIOCore
import PropertyBased


/// Random *valid* packets for one protocol version: every value is one the decoder accepts and the
/// encoder represents faithfully, so `decode(encode(p)) == p` must hold.
struct RandomPackets {
    var rng: SplitMix64
    let version: MQTTProtocolVersion

    static func generator(_ version: MQTTProtocolVersion) -> Generator<MQTTPacket, Shrink.None<MQTTPacket>> {
        Generator { rng in
            var factory = RandomPackets(rng: SplitMix64(state: rng.next()), version: version)
            return factory.packet()
        }
    }

    // MARK: primitives

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool(_ probability: Double = 0.5) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func u8(_ range: ClosedRange<UInt8> = 0...255) -> UInt8 { UInt8.random(in: range, using: &rng) }
    mutating func u16(_ range: ClosedRange<UInt16> = 0...UInt16.max) -> UInt16 { UInt16.random(in: range, using: &rng) }
    mutating func u32(_ range: ClosedRange<UInt32> = 0...UInt32.max) -> UInt32 { UInt32.random(in: range, using: &rng) }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    /// Any string the decoder accepts: multi-byte characters, separators and wildcards, no U+0000.
    mutating func string(_ count: ClosedRange<Int> = 0...12) -> String {
        (0..<int(count)).map { _ in pick(["a", "b", "Z", "0", "/", "+", "#", "$", " ", "é", "€", "😀", "\u{7F}", "\u{FFFF}"]) }.joined()
    }

    /// A topic name the decoder accepts: non-empty, no wildcards.
    mutating func topicName() -> String {
        (0..<int(1...12)).map { _ in pick(["a", "b", "/", "$", "é", "€", "😀", "-"]) }.joined()
    }

    mutating func binary(_ count: ClosedRange<Int> = 0...24) -> ByteBuffer {
        ByteBuffer(bytes: (0..<int(count)).map { _ in u8() })
    }

    mutating func packetID() -> UInt16 { u16(1...UInt16.max) }
    mutating func reasonCode() -> MQTTReasonCode { MQTTReasonCode(u8()) }
    mutating func qos() -> MQTTQoS { pick(MQTTQoS.allCases) }

    // MARK: properties

    /// A random set of properties legal in `context` with legal values; empty before 5.0.
    mutating func properties(_ context: MQTTPropertyContext) -> MQTTProperties {
        guard version.hasProperties else { return [] }
        var elements: [MQTTProperty] = []
        for id in MQTTPropertyIdentifier.allCases where context.allows(id) {
            let copies: Int
            switch id {
            case .userProperty: copies = int(0...3)
            case .subscriptionIdentifier where context == .publish: copies = int(0...2)
            default: copies = bool(0.3) ? 1 : 0
            }
            for _ in 0..<copies { elements.append(property(id)) }
        }
        elements.shuffle(using: &rng)
        return MQTTProperties(elements)
    }

    mutating func property(_ id: MQTTPropertyIdentifier) -> MQTTProperty {
        switch id {
        case .payloadFormatIndicator: return .payloadFormatIndicator(u8(0...1))
        case .messageExpiryInterval: return .messageExpiryInterval(u32())
        case .contentType: return .contentType(string())
        case .responseTopic: return .responseTopic(topicName())
        case .correlationData: return .correlationData(binary())
        case .subscriptionIdentifier: return .subscriptionIdentifier(u32(1...268_435_455))
        case .sessionExpiryInterval: return .sessionExpiryInterval(u32())
        case .assignedClientIdentifier: return .assignedClientIdentifier(string())
        case .serverKeepAlive: return .serverKeepAlive(u16())
        case .authenticationMethod: return .authenticationMethod(string())
        case .authenticationData: return .authenticationData(binary())
        case .requestProblemInformation: return .requestProblemInformation(u8(0...1))
        case .willDelayInterval: return .willDelayInterval(u32())
        case .requestResponseInformation: return .requestResponseInformation(u8(0...1))
        case .responseInformation: return .responseInformation(string())
        case .serverReference: return .serverReference(string())
        case .reasonString: return .reasonString(string())
        case .receiveMaximum: return .receiveMaximum(u16(1...UInt16.max))
        case .topicAliasMaximum: return .topicAliasMaximum(u16())
        case .topicAlias: return .topicAlias(u16())
        case .maximumQoS: return .maximumQoS(u8(0...1))
        case .retainAvailable: return .retainAvailable(u8(0...1))
        case .userProperty: return .userProperty(name: string(), value: string())
        case .maximumPacketSize: return .maximumPacketSize(u32(1...UInt32.max))
        case .wildcardSubscriptionAvailable: return .wildcardSubscriptionAvailable(u8(0...1))
        case .subscriptionIdentifierAvailable: return .subscriptionIdentifierAvailable(u8(0...1))
        case .sharedSubscriptionAvailable: return .sharedSubscriptionAvailable(u8(0...1))
        }
    }

    // MARK: packets

    mutating func packet() -> MQTTPacket {
        let types = MQTTPacketType.allCases.filter { version.hasProperties || $0 != .auth }
        switch pick(types) {
        case .connect: return .connect(connect())
        case .connAck:
            let code = version.hasProperties
                ? reasonCode()
                : pick([.success, .unsupportedProtocolVersion, .clientIdentifierNotValid, .serverUnavailable, .badUserNameOrPassword, .notAuthorized])
            return .connAck(MQTTConnAck(sessionPresent: bool(), reasonCode: code, properties: properties(.connAck)))
        case .publish: return .publish(publish())
        case .pubAck: return .pubAck(ack(.pubAck))
        case .pubRec: return .pubRec(ack(.pubRec))
        case .pubRel: return .pubRel(ack(.pubRel))
        case .pubComp: return .pubComp(ack(.pubComp))
        case .subscribe:
            let properties = properties(.subscribe)
            let subscriptions = (0..<int(1...4)).map { _ in MQTTSubscription(topicFilter: string(), options: subscriptionOptions()) }
            return .subscribe(MQTTSubscribe(packetID: packetID(), properties: properties, subscriptions: subscriptions))
        case .subAck:
            let properties = properties(.subAck)
            let codes = (0..<int(1...4)).map { _ in version.hasProperties ? reasonCode() : pick([.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError]) }
            return .subAck(MQTTSubAck(packetID: packetID(), properties: properties, reasonCodes: codes))
        case .unsubscribe:
            let properties = properties(.unsubscribe)
            return .unsubscribe(MQTTUnsubscribe(packetID: packetID(), properties: properties, topicFilters: (0..<int(1...4)).map { _ in string() }))
        case .unsubAck:
            let properties = properties(.unsubAck)
            let codes = version.hasProperties ? (0..<int(1...4)).map { _ in reasonCode() } : []
            return .unsubAck(MQTTUnsubAck(packetID: packetID(), properties: properties, reasonCodes: codes))
        case .pingReq: return .pingReq
        case .pingResp: return .pingResp
        case .disconnect:
            guard version.hasProperties else { return .disconnect(MQTTDisconnect()) }
            return .disconnect(MQTTDisconnect(reasonCode: bool() ? .normalDisconnection : reasonCode(), properties: properties(.disconnect)))
        case .auth:
            return .auth(MQTTAuth(reasonCode: bool() ? .success : reasonCode(), properties: properties(.auth)))
        }
    }

    mutating func connect() -> MQTTConnect {
        let level: MQTTProtocolVersion = version.hasProperties ? .v5 : pick([.v3_1, .v3_1_1])
        let will: MQTTWill? = bool() ? MQTTWill(
            topic: topicName(), payload: binary(), qos: qos(), retain: bool(), properties: properties(.will)) : nil
        let username: String? = bool() ? string() : nil
        // 3.1.1 has no password without a user name.
        let password: ByteBuffer? = (username != nil || level == .v5) && bool() ? binary() : nil
        return MQTTConnect(
            protocolVersion: level, cleanStart: bool(), keepAlive: u16(), properties: properties(.connect),
            clientID: string(), will: will, username: username, password: password)
    }

    mutating func publish() -> MQTTPublish {
        let qos = qos()
        var properties = properties(.publish)
        var topic = topicName()
        if version.hasProperties && bool(0.1) {
            topic = ""
            properties.topicAlias = u16()
        }
        return MQTTPublish(
            topic: topic, payload: binary(0...64), qos: qos, retain: bool(), dup: qos != .atMostOnce && bool(),
            packetID: qos == .atMostOnce ? nil : packetID(), properties: properties)
    }

    mutating func ack(_ context: MQTTPropertyContext) -> MQTTAck {
        guard version.hasProperties else { return MQTTAck(packetID: packetID()) }
        return MQTTAck(packetID: packetID(), reasonCode: bool() ? .success : reasonCode(), properties: properties(context))
    }

    mutating func subscriptionOptions() -> MQTTSubscriptionOptions {
        guard version.hasProperties else { return MQTTSubscriptionOptions(qos: qos()) }
        return MQTTSubscriptionOptions(
            qos: qos(), noLocal: bool(), retainAsPublished: bool(),
            retainHandling: pick(MQTTSubscriptionOptions.RetainHandling.allCases))
    }
}
