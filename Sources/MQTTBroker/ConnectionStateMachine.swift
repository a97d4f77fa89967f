import MQTTCodec
import NIOCore

/// The protocol state of one MQTT connection: CONNECT handshake, keep-alive, topic aliases, inbound
/// flow control and every per-packet rule that does not need the broker's shared state.
///
/// Pure: time is an input, nothing here touches channels, loggers or metrics. The handler feeds it
/// events and carries out the returned `Action`.
struct ConnectionStateMachine {
    /// The subset of `BrokerConfiguration` the connection needs.
    struct Limits: Sendable {
        var receiveMaximum: UInt16
        var topicAliasMaximum: UInt16
        var maximumPacketSize: Int
        var maximumKeepAlive: UInt16
        var serverKeepAliveWhenZero: UInt16
        var maximumSessionExpiryInterval: UInt32
        var persistentSessionExpiryV3: UInt32
        var defaultOutboundInflight: UInt16
        var maximumQoS: MQTTQoS
        var retainAvailable: Bool
        var wildcardSubscriptionsAvailable: Bool
        var sharedSubscriptionsAvailable: Bool
        var subscriptionIdentifiersAvailable: Bool
        var maximumTopicLevels: Int
        var maximumClientIDLength: Int
        var allowsModuleClientIDs: Bool

        init(_ c: BrokerConfiguration) {
            receiveMaximum = max(1, c.receiveMaximum)
            topicAliasMaximum = c.topicAliasMaximum
            maximumPacketSize = c.maximumPacketSize
            maximumKeepAlive = c.maximumKeepAlive
            serverKeepAliveWhenZero = c.serverKeepAliveWhenZero
            maximumSessionExpiryInterval = c.maximumSessionExpiryInterval
            persistentSessionExpiryV3 = c.persistentSessionExpiryV3
            defaultOutboundInflight = max(1, c.defaultOutboundInflight)
            maximumQoS = c.maximumQoS
            retainAvailable = c.retainAvailable
            wildcardSubscriptionsAvailable = c.wildcardSubscriptionsAvailable
            sharedSubscriptionsAvailable = c.sharedSubscriptionsAvailable
            subscriptionIdentifiersAvailable = c.subscriptionIdentifiersAvailable
            maximumTopicLevels = c.maximumTopicLevels
            maximumClientIDLength = c.maximumClientIDLength
            allowsModuleClientIDs = c.allowsModuleClientIDs
        }
    }

    /// What the connection negotiated in CONNECT, fixed for its lifetime.
    struct Session: Sendable {
        var version: MQTTProtocolVersion
        var clientID: String
        /// True when the broker generated the identifier (returned as Assigned Client Identifier).
        var clientIDAssigned: Bool
        var cleanStart: Bool
        /// Effective keep-alive in seconds (0 = none).
        var keepAlive: UInt16
        /// True when the keep-alive differs from the client's request (5.0: sent as Server Keep Alive).
        var keepAliveChanged: Bool
        /// Session Expiry Interval in force (may be changed by a 5.0 DISCONNECT).
        var sessionExpiryInterval: UInt32
        /// True when the client's requested expiry was lowered (5.0: returned in CONNACK).
        var sessionExpiryChanged: Bool
        var will: MQTTWill?
        /// How many unacknowledged QoS > 0 messages the client accepts from us.
        var outboundWindow: UInt16
        /// The client's Maximum Packet Size, if it set one.
        var clientMaximumPacketSize: UInt32?
        var username: String?
    }

    /// Per-connection rights and QoS ceiling, decided by the authenticator.
    typealias Grant = ConnectGrant

    private enum State {
        /// Waiting for CONNECT; anything else closes the connection without an answer (M4).
        case awaitingConnect
        /// CONNECT received and valid; the authenticator is deciding.
        case authenticating(Session)
        /// Authenticated; the broker is attaching the session (takeover of an older connection).
        case attaching(Session, Grant)
        /// Connected; the negotiated parameters live in `current`, mutated in place per packet.
        case connected
        case closed
    }

    private struct Connected {
        var session: Session
        var grant: Grant
        var lastPacketAt: NIODeadline
        /// Topic aliases the client set, 1...topicAliasMaximum. Reset per connection. [MQTT-3.3.2-7]
        var aliases: [UInt16: String] = [:]
    }

    /// What the handler must do next.
    enum Action {
        case none
        /// Close the connection without a word (3.1.1 violations, anything before CONNECT).
        case close
        /// Send this packet (CONNACK with a failure code, or 5.0 DISCONNECT), then close.
        case sendAndClose(MQTTPacket)
        case send(MQTTPacket)
        /// Ask the authenticator about this client.
        case authenticate(Session)
        /// Route an inbound message; `ack` (PUBACK/PUBREC) is sent once routing is done.
        /// For QoS 2 the handler routes only if `packetID` is not already awaiting PUBREL.
        case route(ApplicationMessage, packetID: UInt16?)
        case subscribe(packetID: UInt16, requests: [SubscriptionRequest], identifier: UInt32?)
        case unsubscribe(packetID: UInt16, filters: [String])
        /// An acknowledgement of a message we sent.
        case outboundAck(MQTTPacketType, packetID: UInt16, reasonCode: MQTTReasonCode)
        /// PUBREL for an inbound QoS 2 message: answer PUBCOMP.
        case releaseInbound(packetID: UInt16)
        /// The client sent DISCONNECT. `publishWill` for 5.0 reason 0x04.
        case clientDisconnected(publishWill: Bool, sessionExpiryInterval: UInt32?)
    }

    /// One filter of a SUBSCRIBE after validation: either accepted (with the granted QoS) or refused.
    struct SubscriptionRequest: Sendable {
        var filter: MQTTTopicFilter?
        var options: MQTTSubscriptionOptions
        /// Granted QoS code, or the failure code (0x8F filter invalid, 0x87 not authorized, 0x9E/0xA2 not supported).
        var reasonCode: MQTTReasonCode
    }

    let limits: Limits
    private var state: State = .awaitingConnect
    /// Set when `state` becomes `.connected`. Kept outside the enum so per-packet updates (keep-alive
    /// clock, aliases) mutate it in place instead of copying it out of and back into the enum.
    private var current: Connected?
    /// Set once CONNECT has been decoded, so errors are answered in the right protocol version.
    private(set) var version: MQTTProtocolVersion?
    /// Publishes and subscriptions refused by the client's topic rights, for the handler to count
    /// (it reads and resets it).
    var authorizationDenials = 0

    init(limits: Limits) {
        self.limits = limits
    }

    var isConnected: Bool { if case .connected = state { return true } else { return false } }
    var isClosed: Bool { if case .closed = state { return true } else { return false } }
    /// The negotiated session parameters once CONNECT has been accepted.
    var session: Session? {
        switch state {
        case .authenticating(let s), .attaching(let s, _): return s
        case .connected: return current?.session
        default: return nil
        }
    }
    var grant: Grant? {
        switch state {
        case .attaching(_, let g): return g
        case .connected: return current?.grant
        default: return nil
        }
    }

    // MARK: - CONNECT

    mutating func connectReceived(_ connect: MQTTConnect, now: NIODeadline, assignClientID: () -> String) -> Action {
        guard case .awaitingConnect = state else { return protocolError("second CONNECT") }  // M5
        let version = connect.protocolVersion
        self.version = version
        let v5 = version == .v5

        func refuse(_ code: MQTTReasonCode) -> Action {
            state = .closed
            return .sendAndClose(.connAck(MQTTConnAck(sessionPresent: false, reasonCode: code)))
        }

        // Client identifier. [MQTT-3.1.3-7/8], [MQTT-3.1.3-6]
        var clientID = connect.clientID
        var assigned = false
        if clientID.isEmpty {
            if !v5 && !connect.cleanStart { return refuse(.clientIdentifierNotValid) }  // M11
            clientID = assignClientID()
            assigned = true
        } else if clientID.utf8.count > limits.maximumClientIDLength
            || clientID.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 == 0 })
            || !Self.separatorsAllowed(in: clientID, moduleForm: limits.allowsModuleClientIDs)
        {
            // Wildcards or separators in an identifier would let it escape per-client topic patterns
            // (CVE-2017-7650 class, M10).
            return refuse(.clientIdentifierNotValid)
        }

        if connect.properties.authenticationMethod != nil {
            return refuse(.badAuthenticationMethod)  // no enhanced authentication methods are offered
        }

        if let will = connect.will {
            do throws(MQTTCodecError) {
                try MQTTTopic.validateName(will.topic, maximumLevels: limits.maximumTopicLevels)
            } catch {
                return refuse(.topicNameInvalid)  // M40
            }
            if will.qos > limits.maximumQoS { return refuse(.qosNotSupported) }
            if will.retain && !limits.retainAvailable { return refuse(.retainNotSupported) }
            if let rt = will.properties.responseTopic, rt.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }) {
                return refuse(.protocolError)
            }
        }

        // Keep alive. [MQTT-3.1.2-21]
        var keepAlive = connect.keepAlive
        var keepAliveChanged = false
        if keepAlive > limits.maximumKeepAlive {
            keepAlive = limits.maximumKeepAlive
            keepAliveChanged = true
        } else if keepAlive == 0 && limits.serverKeepAliveWhenZero > 0 {
            keepAlive = limits.serverKeepAliveWhenZero
            keepAliveChanged = true
        }
        if !v5 && keepAliveChanged && connect.keepAlive != 0 {
            // 3.1.1 cannot tell the client; keep its own (shorter is never the problem, longer is).
            keepAlive = connect.keepAlive
            keepAliveChanged = false
        }

        // Session expiry: 5.0 property (absent = 0), 3.1.1 clean session 0 = persistent.
        var expiry: UInt32
        var expiryChanged = false
        if v5 {
            expiry = connect.properties.sessionExpiryInterval ?? 0
            if expiry > limits.maximumSessionExpiryInterval {
                expiry = limits.maximumSessionExpiryInterval
                expiryChanged = true
            }
        } else {
            expiry = connect.cleanStart ? 0 : limits.persistentSessionExpiryV3
        }

        let window: UInt16 = v5 ? (connect.properties.receiveMaximum ?? UInt16.max) : limits.defaultOutboundInflight
        let session = Session(
            version: version, clientID: clientID, clientIDAssigned: assigned, cleanStart: connect.cleanStart,
            keepAlive: keepAlive, keepAliveChanged: keepAliveChanged,
            sessionExpiryInterval: expiry, sessionExpiryChanged: expiryChanged,
            will: connect.will, outboundWindow: max(1, window),
            clientMaximumPacketSize: v5 ? connect.properties.maximumPacketSize : nil,
            username: connect.username)
        state = .authenticating(session)
        return .authenticate(session)
    }

    /// The authenticator's answer.
    mutating func authenticationCompleted(_ decision: ConnectDecision) -> Action {
        guard case .authenticating(let session) = state else { return .none }
        switch decision {
        case .reject(let code):
            state = .closed
            return .sendAndClose(.connAck(MQTTConnAck(sessionPresent: false, reasonCode: code)))
        case .accept(var grant):
            grant.maximumQoS = min(grant.maximumQoS, limits.maximumQoS)
            state = .attaching(session, grant)
            return .none
        }
    }

    /// The broker attached the session; returns the CONNACK to send.
    mutating func sessionAttached(sessionPresent: Bool, now: NIODeadline) -> MQTTPacket? {
        guard case .attaching(let session, let grant) = state else { return nil }
        current = Connected(session: session, grant: grant, lastPacketAt: now)
        state = .connected
        var props = MQTTProperties()
        if session.version == .v5 {
            if session.clientIDAssigned { props.assignedClientIdentifier = session.clientID }
            if session.keepAliveChanged { props.serverKeepAlive = session.keepAlive }
            if session.sessionExpiryChanged { props.sessionExpiryInterval = session.sessionExpiryInterval }
            if limits.receiveMaximum != UInt16.max { props.receiveMaximum = limits.receiveMaximum }
            if grant.maximumQoS < .exactlyOnce { props.maximumQoS = grant.maximumQoS.rawValue }
            if !limits.retainAvailable { props.retainAvailable = 0 }
            props.maximumPacketSize = UInt32(clamping: limits.maximumPacketSize)
            if limits.topicAliasMaximum > 0 { props.topicAliasMaximum = limits.topicAliasMaximum }
            if !limits.wildcardSubscriptionsAvailable { props.wildcardSubscriptionAvailable = 0 }
            if !limits.subscriptionIdentifiersAvailable { props.subscriptionIdentifierAvailable = 0 }
            if !limits.sharedSubscriptionsAvailable { props.sharedSubscriptionAvailable = 0 }
        }
        // [MQTT-3.2.2-2]: Session Present is 0 for a clean start.
        return .connAck(MQTTConnAck(sessionPresent: sessionPresent && !session.cleanStart, reasonCode: .success, properties: props))
    }

    /// The broker refused to attach (server busy, shutting down).
    mutating func attachFailed(_ code: MQTTReasonCode) -> Action {
        state = .closed
        return .sendAndClose(.connAck(MQTTConnAck(sessionPresent: false, reasonCode: code)))
    }

    // MARK: - Packets after CONNECT

    mutating func packetReceived(_ packet: MQTTPacket, now: NIODeadline) -> Action {
        switch state {
        case .awaitingConnect:
            // Only CONNECT is valid first; the handler routes CONNECT to connectReceived. (M4)
            state = .closed
            return .close
        case .authenticating, .attaching:
            // The handler stops reading while the decision is pending; reaching here is a bug in the
            // handler, so refuse rather than act on an unauthenticated packet.
            return protocolError("packet before CONNACK")
        case .closed:
            return .none
        case .connected:
            current!.lastPacketAt = now
            return handle(packet)
        }
    }

    private mutating func handle(_ packet: MQTTPacket) -> Action {
        let v5 = current!.session.version == .v5
        switch packet {
        case .connect:
            return protocolError("second CONNECT")  // M5
        case .connAck, .subAck, .unsubAck, .pingResp:
            return protocolError("server-only packet from client")  // M34, CVE-2021-28166
        case .auth:
            return protocolError("AUTH without enhanced authentication")  // M42
        case .pingReq:
            return .send(.pingResp)
        case .publish(let p):
            return publishReceived(p)
        case .pubAck(let a):
            return .outboundAck(.pubAck, packetID: a.packetID, reasonCode: a.reasonCode)
        case .pubRec(let a):
            return .outboundAck(.pubRec, packetID: a.packetID, reasonCode: a.reasonCode)
        case .pubComp(let a):
            return .outboundAck(.pubComp, packetID: a.packetID, reasonCode: a.reasonCode)
        case .pubRel(let a):
            return .releaseInbound(packetID: a.packetID)
        case .subscribe(let s):
            return subscribeReceived(s)
        case .unsubscribe(let u):
            return .unsubscribe(packetID: u.packetID, filters: u.topicFilters)
        case .disconnect(let d):
            var newExpiry: UInt32?
            if v5, let requested = d.properties.sessionExpiryInterval {
                // Raising a zero expiry at DISCONNECT is a protocol error. [MQTT-3.14.2-2] (M43)
                if current!.session.sessionExpiryInterval == 0 && requested != 0 {
                    return protocolError("session expiry raised from 0 at DISCONNECT")
                }
                newExpiry = min(requested, limits.maximumSessionExpiryInterval)
            }
            state = .closed
            return .clientDisconnected(publishWill: v5 && d.reasonCode == .disconnectWithWillMessage, sessionExpiryInterval: newExpiry)
        }
    }

    private mutating func publishReceived(_ p: MQTTPublish) -> Action {
        let v5 = current!.session.version == .v5
        // QoS above what this client was granted. (M18)
        if p.qos > current!.grant.maximumQoS {
            return disconnect(.qosNotSupported, v5: v5)
        }
        if p.retain && !limits.retainAvailable {
            return disconnect(.retainNotSupported, v5: v5)
        }
        var topic = p.topic
        var properties = p.properties
        if v5 {
            if !properties.subscriptionIdentifiers.isEmpty {
                return protocolError("subscription identifier in client PUBLISH")  // M41 [MQTT-3.3.4-6]
            }
            if let rt = properties.responseTopic, rt.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }) {
                return protocolError("wildcard in Response Topic")  // M41 [MQTT-3.3.2-14]
            }
            if let alias = properties.topicAlias {
                // [MQTT-3.3.2-8], [MQTT-3.3.2-9] (M32)
                guard alias != 0, alias <= limits.topicAliasMaximum else { return disconnect(.topicAliasInvalid, v5: true) }
                if topic.isEmpty {
                    guard let mapped = current!.aliases[alias] else { return protocolError("unknown topic alias") }
                    topic = mapped
                } else {
                    current!.aliases[alias] = topic
                }
                properties.topicAlias = nil
            }
        }
        if topic.isEmpty { return protocolError("empty topic") }  // M14
        do throws(MQTTCodecError) {
            try MQTTTopic.validateName(topic, maximumLevels: limits.maximumTopicLevels)
        } catch {
            return refusePublish(p, .topicNameInvalid, v5: v5)
        }
        // `$SYS` is the broker's own; clients may not publish there (CVE-2018-12543 class).
        if topic.utf8.first == UInt8(ascii: "$") && topic.hasPrefix("$SYS") || !current!.grant.authorizer.mayPublish(to: topic) {
            authorizationDenials += 1
            return refusePublish(p, .notAuthorized, v5: v5)  // M28
        }
        if v5, properties.payloadFormatIndicator == 1 {
            let valid = p.payload.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) != nil }
            if !valid { return refusePublish(p, .payloadFormatInvalid, v5: true) }
        }
        var expiresAt: NIODeadline?
        if let seconds = properties.messageExpiryInterval {
            expiresAt = current!.lastPacketAt + .seconds(Int64(seconds))
            properties.messageExpiryInterval = nil
        }
        let message = ApplicationMessage(
            topic: topic, payload: p.payload, qos: p.qos, retain: p.retain, properties: properties,
            expiresAt: expiresAt, originClientID: current!.session.clientID)
        return .route(message, packetID: p.packetID)
    }

    /// A PUBLISH that cannot be accepted: 5.0 QoS 1/2 get the reason in PUBACK/PUBREC and the connection
    /// goes on; 5.0 QoS 0 gets DISCONNECT; 3.1.1 is closed.
    private mutating func refusePublish(_ p: MQTTPublish, _ code: MQTTReasonCode, v5: Bool) -> Action {
        refusePublish(qos: p.qos, packetID: p.packetID, code, v5: v5)
    }

    private mutating func refusePublish(qos: MQTTQoS, packetID: UInt16?, _ code: MQTTReasonCode, v5: Bool) -> Action {
        guard v5 else { state = .closed; return .close }
        switch qos {
        case .atMostOnce:
            return disconnect(code, v5: true)
        case .atLeastOnce:
            return .send(.pubAck(MQTTAck(packetID: packetID ?? 0, reasonCode: code)))
        case .exactlyOnce:
            return .send(.pubRec(MQTTAck(packetID: packetID ?? 0, reasonCode: code)))
        }
    }

    /// A PUBLISH that passed this machine's checks but was refused by the grant's interceptor: answered
    /// like a refused topic (5.0 reason code in the acknowledgement; 3.1.1 close).
    mutating func interceptorRefused(qos: MQTTQoS, packetID: UInt16?, _ code: MQTTReasonCode) -> Action {
        guard case .connected = state else { return .none }
        authorizationDenials += code == .notAuthorized ? 1 : 0
        return refusePublish(qos: qos, packetID: packetID, code, v5: current!.session.version == .v5)
    }

    private mutating func subscribeReceived(_ s: MQTTSubscribe) -> Action {
        let v5 = current!.session.version == .v5
        let identifier = v5 ? s.properties.subscriptionIdentifiers.first : nil
        if identifier != nil && !limits.subscriptionIdentifiersAvailable {
            return disconnect(.subscriptionIdentifiersNotSupported, v5: true)
        }
        var requests: [SubscriptionRequest] = []
        requests.reserveCapacity(s.subscriptions.count)
        for sub in s.subscriptions {
            let filter: MQTTTopicFilter
            do throws(MQTTCodecError) {
                filter = try MQTTTopic.parseFilter(sub.topicFilter, maximumLevels: limits.maximumTopicLevels)
            } catch {
                requests.append(SubscriptionRequest(filter: nil, options: sub.options, reasonCode: .topicFilterInvalid))  // M21, M25
                continue
            }
            if filter.shareName != nil {
                if sub.options.noLocal && v5 { return protocolError("No Local on a shared subscription") }  // M26 [MQTT-3.8.3-4]
                if !limits.sharedSubscriptionsAvailable {
                    requests.append(SubscriptionRequest(filter: nil, options: sub.options, reasonCode: .sharedSubscriptionsNotSupported))
                    continue
                }
            }
            if filter.hasWildcards && !limits.wildcardSubscriptionsAvailable {
                requests.append(SubscriptionRequest(filter: nil, options: sub.options, reasonCode: .wildcardSubscriptionsNotSupported))
                continue
            }
            guard current!.grant.authorizer.maySubscribe(to: filter) else {
                authorizationDenials += 1
                requests.append(SubscriptionRequest(filter: nil, options: sub.options, reasonCode: .notAuthorized))  // M27
                continue
            }
            var options = sub.options
            options.qos = min(options.qos, current!.grant.maximumQoS)
            requests.append(SubscriptionRequest(filter: filter, options: options, reasonCode: MQTTReasonCode(options.qos.rawValue)))
        }
        return .subscribe(packetID: s.packetID, requests: requests, identifier: identifier)
    }

    // MARK: - Errors and timers

    /// A decoding error on this connection's input.
    mutating func decodeFailed(_ error: MQTTCodecError) -> Action {
        switch state {
        case .connected where current!.session.version == .v5:
            if error.packetConsumed, let id = error.packetID, let qos = error.publishQoS, qos != .atMostOnce {
                // The stream is in sync: answer the bad PUBLISH and go on. (M15)
                return .send(qos == .atLeastOnce
                    ? .pubAck(MQTTAck(packetID: id, reasonCode: error.reasonCode))
                    : .pubRec(MQTTAck(packetID: id, reasonCode: error.reasonCode)))
            }
            return disconnect(error.reasonCode, v5: true)
        case .closed:
            return .none
        default:
            state = .closed
            return .close
        }
    }

    /// Called when the keep-alive timer fires. Closes when nothing was received for 1.5 × keep-alive.
    /// [MQTT-3.1.2-22] (M37)
    mutating func keepAliveTimerFired(now: NIODeadline) -> Action {
        guard case .connected = state, let c = current, c.session.keepAlive > 0 else { return .none }
        let limit = TimeAmount.milliseconds(Int64(c.session.keepAlive) * 1500)
        guard now - c.lastPacketAt >= limit else { return .none }
        return disconnect(.keepAliveTimeout, v5: c.session.version == .v5)
    }

    /// When the keep-alive timer should next fire.
    var nextKeepAliveCheck: NIODeadline? {
        guard case .connected = state, let c = current, c.session.keepAlive > 0 else { return nil }
        return c.lastPacketAt + .milliseconds(Int64(c.session.keepAlive) * 1500)
    }

    /// Records that bytes arrived (any packet resets the keep-alive clock).
    mutating func bytesReceived(now: NIODeadline) {
        if case .connected = state { current!.lastPacketAt = now }
    }

    /// The CONNECT deadline passed. (M38)
    mutating func connectDeadlinePassed() -> Action {
        switch state {
        case .awaitingConnect, .authenticating:
            state = .closed
            return .close
        default:
            return .none
        }
    }

    /// The broker closes the connection for its own reasons (takeover 0x8E, shutdown 0x8B,
    /// administrative action 0x98, slow consumer 0x97 …).
    /// No `/` in a client id, or (module identities allowed) exactly one between two non-empty parts.
    static func separatorsAllowed(in clientID: String, moduleForm: Bool) -> Bool {
        let slashes = clientID.utf8.count { $0 == UInt8(ascii: "/") }
        if slashes == 0 { return true }
        guard moduleForm, slashes == 1 else { return false }
        return clientID.utf8.first != UInt8(ascii: "/") && clientID.utf8.last != UInt8(ascii: "/")
    }

    mutating func serverDisconnect(_ code: MQTTReasonCode) -> Action {
        switch state {
        case .connected:
            return disconnect(code, v5: current!.session.version == .v5)
        case .closed:
            return .none
        default:
            state = .closed
            return .close
        }
    }

    mutating func connectionClosed() {
        state = .closed
    }

    private mutating func protocolError(_ why: String) -> Action {
        disconnect(.protocolError, v5: version == .v5 && isConnected)
    }

    private mutating func disconnect(_ code: MQTTReasonCode, v5: Bool) -> Action {
        state = .closed
        return v5 ? .sendAndClose(.disconnect(MQTTDisconnect(reasonCode: code))) : .close
    }
}
