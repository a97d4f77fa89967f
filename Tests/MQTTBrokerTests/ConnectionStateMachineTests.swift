@testable import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// The pure connection state machine: events in, actions out, time as an input.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func machine(_ configure: (inout BrokerConfiguration) -> Void = { _ in }) -> ConnectionStateMachine {
        var c = BrokerConfiguration()
        configure(&c)
        return ConnectionStateMachine(limits: .init(c))
    }

    /// A machine that has accepted `connect` and is connected at `t0`.
    func connected(_ connect: MQTTConnect, maxQoS: MQTTQoS = .exactlyOnce, _ configure: (inout BrokerConfiguration) -> Void = { _ in }) -> ConnectionStateMachine {
        var m = machine(configure)
        guard case .authenticate = m.connectReceived(connect, now: Self.t0, assignClientID: { "assigned" }) else {
            Issue.record("CONNECT not accepted")
            return m
        }
        _ = m.authenticationCompleted(.accept(authorizer: AllowAllAuthorizer(), maximumQoS: maxQoS))
        _ = m.sessionAttached(sessionPresent: false, now: Self.t0)
        return m
    }

    func isClose(_ a: ConnectionStateMachine.Action) -> Bool { if case .close = a { return true } else { return false } }
    func sentAndClosed(_ a: ConnectionStateMachine.Action) -> MQTTPacket? { if case .sendAndClose(let p) = a { return p } else { return nil } }

    @Test("keep-alive: nothing at 1.5 × keep-alive − 1 ms, 0x8D at 1.5 × keep-alive; bytes push the deadline")
    func keepAlive() {
        var m = connected(MQTTConnect(protocolVersion: .v5, keepAlive: 20, clientID: "k"))
        #expect(m.nextKeepAliveCheck == Self.t0 + .seconds(30))
        if case .none = m.keepAliveTimerFired(now: Self.t0 + .milliseconds(29_999)) {} else { Issue.record("closed early") }
        m.bytesReceived(now: Self.t0 + .seconds(10))
        if case .none = m.keepAliveTimerFired(now: Self.t0 + .seconds(30)) {} else { Issue.record("activity ignored") }
        #expect(sentAndClosed(m.keepAliveTimerFired(now: Self.t0 + .seconds(40))) == .disconnect(MQTTDisconnect(reasonCode: .keepAliveTimeout)))
        #expect(m.isClosed)
    }

    @Test("keep-alive 0 never expires; a 3.1.1 timeout closes without a packet")
    func keepAliveVariants() {
        var none = connected(MQTTConnect(protocolVersion: .v5, keepAlive: 0, clientID: "k0"))
        #expect(none.nextKeepAliveCheck == nil)
        if case .none = none.keepAliveTimerFired(now: Self.t0 + .hours(24)) {} else { Issue.record("keep-alive 0 expired") }
        var v3 = connected(MQTTConnect(protocolVersion: .v3_1_1, keepAlive: 2, clientID: "k3"))
        #expect(isClose(v3.keepAliveTimerFired(now: Self.t0 + .seconds(3))))
    }

    @Test("the CONNECT deadline closes only before the session is attached")
    func connectDeadline() {
        var waiting = machine()
        #expect(isClose(waiting.connectDeadlinePassed()))
        var done = connected(MQTTConnect(clientID: "c"))
        if case .none = done.connectDeadlinePassed() {} else { Issue.record("closed a connected client") }
    }

    @Test("CONNECT: keep-alive and session expiry are capped and reported in CONNACK (5.0)")
    func connectCaps() {
        var m = machine { $0.maximumKeepAlive = 60; $0.maximumSessionExpiryInterval = 100 }
        _ = m.connectReceived(MQTTConnect(protocolVersion: .v5, cleanStart: false, keepAlive: 600, properties: [.sessionExpiryInterval(1000)], clientID: "c"), now: Self.t0, assignClientID: { "x" })
        _ = m.authenticationCompleted(.accept(authorizer: AllowAllAuthorizer(), maximumQoS: .atLeastOnce))
        guard case .connAck(let ack)? = m.sessionAttached(sessionPresent: true, now: Self.t0) else { Issue.record("no CONNACK"); return }
        #expect(ack.properties.serverKeepAlive == 60)
        #expect(ack.properties.sessionExpiryInterval == 100)
        #expect(ack.properties.maximumQoS == 1)
        #expect(ack.sessionPresent)
        #expect(m.session?.sessionExpiryInterval == 100)
    }

    @Test("CONNECT refusals", arguments: [
        (MQTTConnect(protocolVersion: .v3_1_1, cleanStart: false, clientID: ""), MQTTReasonCode.clientIdentifierNotValid),
        (MQTTConnect(clientID: "a#b"), .clientIdentifierNotValid),
        (MQTTConnect(clientID: String(repeating: "x", count: 257)), .clientIdentifierNotValid),
        (MQTTConnect(properties: [.authenticationMethod("SCRAM-SHA-1")], clientID: "c"), .badAuthenticationMethod),
        (MQTTConnect(clientID: "c", will: MQTTWill(topic: "w/+", payload: ByteBuffer())), .topicNameInvalid),
        (MQTTConnect(clientID: "c", will: MQTTWill(topic: "w", payload: ByteBuffer(), properties: [.responseTopic("r/#")])), .protocolError),
    ])
    func connectRefusals(connect: MQTTConnect, code: MQTTReasonCode) {
        var m = machine()
        #expect(sentAndClosed(m.connectReceived(connect, now: Self.t0, assignClientID: { "x" })) == .connAck(MQTTConnAck(reasonCode: code)))
    }

    @Test(
        "client ids with '/': refused by default; with module ids allowed, only one '/' between two non-empty parts",
        arguments: [("a/b", false, false), ("a/b", true, true), ("a/b/c", true, false), ("/b", true, false), ("a/", true, false),
            ("a\u{0}b", true, false), ("a+b/c", true, false)])
    func moduleClientIDs(id: String, allowModules: Bool, accepted: Bool) {
        var m = machine { $0.allowsModuleClientIDs = allowModules }
        let action = m.connectReceived(MQTTConnect(clientID: id), now: Self.t0, assignClientID: { "x" })
        if accepted {
            guard case .authenticate = action else { Issue.record("\(id) refused"); return }
        } else {
            #expect(sentAndClosed(action) == .connAck(MQTTConnAck(reasonCode: .clientIdentifierNotValid)))
        }
    }

    @Test("an empty 5.0 client id is assigned and returned in CONNACK")
    func assignedID() {
        var m = machine()
        _ = m.connectReceived(MQTTConnect(protocolVersion: .v5, clientID: ""), now: Self.t0, assignClientID: { "auto-1" })
        _ = m.authenticationCompleted(.accept(authorizer: AllowAllAuthorizer(), maximumQoS: .exactlyOnce))
        guard case .connAck(let ack)? = m.sessionAttached(sessionPresent: false, now: Self.t0) else { Issue.record("no CONNACK"); return }
        #expect(ack.properties.assignedClientIdentifier == "auto-1")
        #expect(m.session?.clientID == "auto-1")
    }

    @Test("topic aliases: set, reuse, unknown (0x82), zero or above the maximum (0x94)")
    func aliases() {
        var m = connected(MQTTConnect(clientID: "a"))
        func publish(_ topic: String, alias: UInt16) -> ConnectionStateMachine.Action {
            m.packetReceived(.publish(MQTTPublish(topic: topic, payload: ByteBuffer(), properties: [.topicAlias(alias)])), now: Self.t0)
        }
        guard case .route(let first, _) = publish("long/topic", alias: 1) else { Issue.record("not routed"); return }
        #expect(first.topic == "long/topic" && first.properties.topicAlias == nil)
        guard case .route(let second, _) = publish("", alias: 1) else { Issue.record("alias not resolved"); return }
        #expect(second.topic == "long/topic")
        #expect(sentAndClosed(publish("", alias: 2)) == .disconnect(MQTTDisconnect(reasonCode: .protocolError)))
        var high = connected(MQTTConnect(clientID: "b"))
        #expect(sentAndClosed(high.packetReceived(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), properties: [.topicAlias(11)])), now: Self.t0)) == .disconnect(MQTTDisconnect(reasonCode: .topicAliasInvalid)))
        var zero = connected(MQTTConnect(clientID: "c"))
        #expect(sentAndClosed(zero.packetReceived(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), properties: [.topicAlias(0)])), now: Self.t0)) == .disconnect(MQTTDisconnect(reasonCode: .topicAliasInvalid)))
    }

    @Test("message expiry becomes a deadline relative to the packet's arrival")
    func messageExpiry() {
        var m = connected(MQTTConnect(clientID: "e"))
        m.bytesReceived(now: Self.t0 + .seconds(5))
        guard case .route(let msg, _) = m.packetReceived(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), properties: [.messageExpiryInterval(30)])), now: Self.t0 + .seconds(5)) else {
            Issue.record("not routed"); return
        }
        #expect(msg.expiresAt == Self.t0 + .seconds(35))
        #expect(msg.remainingExpirySeconds(at: Self.t0 + .seconds(20)) == 15)
        #expect(msg.isExpired(at: Self.t0 + .seconds(35)))
    }

    @Test("refused publishes: QoS 1 to \\$SYS gets PUBACK 0x87 and the connection goes on; QoS above the grant gets 0x9B")
    func refusedPublishes() {
        var m = connected(MQTTConnect(clientID: "p"), maxQoS: .atLeastOnce)
        guard case .send(let ack) = m.packetReceived(.publish(MQTTPublish(topic: "$SYS/x", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 3)), now: Self.t0) else {
            Issue.record("expected PUBACK"); return
        }
        #expect(ack == .pubAck(MQTTAck(packetID: 3, reasonCode: .notAuthorized)))
        #expect(m.isConnected)
        #expect(sentAndClosed(m.packetReceived(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), qos: .exactlyOnce, packetID: 4)), now: Self.t0)) == .disconnect(MQTTDisconnect(reasonCode: .qosNotSupported)))
    }

    @Test("SUBSCRIBE: per-filter codes and the granted QoS is capped")
    func subscribe() {
        var m = connected(MQTTConnect(clientID: "s"), maxQoS: .atLeastOnce)
        let subs = [
            MQTTSubscription(topicFilter: "ok/#", options: .init(qos: .exactlyOnce)),
            MQTTSubscription(topicFilter: "bad/#/x"),
            MQTTSubscription(topicFilter: "$share/g/t", options: .init(qos: .atMostOnce)),
        ]
        guard case .subscribe(let id, let requests, _) = m.packetReceived(.subscribe(MQTTSubscribe(packetID: 9, subscriptions: subs)), now: Self.t0) else {
            Issue.record("expected subscribe"); return
        }
        #expect(id == 9)
        #expect(requests.map(\.reasonCode) == [.grantedQoS1, .topicFilterInvalid, .grantedQoS0])
        #expect(requests[2].filter?.shareName == "g")
    }

    @Test("DISCONNECT: 0x04 asks for the Will; a new session expiry is taken unless it raises 0")
    func disconnect() {
        var m = connected(MQTTConnect(properties: [.sessionExpiryInterval(10)], clientID: "d"))
        guard case .clientDisconnected(let will, let expiry) = m.packetReceived(.disconnect(MQTTDisconnect(reasonCode: .disconnectWithWillMessage, properties: [.sessionExpiryInterval(0)])), now: Self.t0) else {
            Issue.record("expected disconnect"); return
        }
        #expect(will && expiry == 0)
    }
}
