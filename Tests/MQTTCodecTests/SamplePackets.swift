import MQTTCodec
import NIOCore

/// One valid packet of every type for each protocol version, with the optional parts filled in. Used
/// by the round-trip and streaming tests and written out as fuzz seeds.
enum SamplePackets {
    static func buffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

    /// 3.1.1 packets: all 14 types of 3.1.1 (AUTH does not exist there), a 3.1 CONNECT, and variants.
    static let v3: [(name: String, packet: MQTTPacket)] = [
        ("connect", .connect(MQTTConnect(
            protocolVersion: .v3_1_1, cleanStart: true, keepAlive: 30, clientID: "drone-0001",
            will: MQTTWill(topic: "drones/0001/status", payload: buffer("offline"), qos: .atLeastOnce, retain: true),
            username: "drone-0001", password: buffer("secret")))),
        ("connect-3.1", .connect(MQTTConnect(protocolVersion: .v3_1, cleanStart: false, keepAlive: 0, clientID: "legacy"))),
        ("connack", .connAck(MQTTConnAck(sessionPresent: true, reasonCode: .success))),
        ("connack-refused", .connAck(MQTTConnAck(sessionPresent: false, reasonCode: .notAuthorized))),
        ("publish", .publish(MQTTPublish(
            topic: "devices/d1/messages/events/", payload: buffer("{\"t\":21.5}"), qos: .atLeastOnce, retain: false,
            dup: true, packetID: 7))),
        ("publish-qos0", .publish(MQTTPublish(topic: "a/b", payload: ByteBuffer(), retain: true))),
        ("puback", .pubAck(MQTTAck(packetID: 7))),
        ("pubrec", .pubRec(MQTTAck(packetID: 8))),
        ("pubrel", .pubRel(MQTTAck(packetID: 8))),
        ("pubcomp", .pubComp(MQTTAck(packetID: 8))),
        ("subscribe", .subscribe(MQTTSubscribe(packetID: 9, subscriptions: [
            MQTTSubscription(topicFilter: "devices/d1/messages/devicebound/#", options: .init(qos: .atLeastOnce)),
            MQTTSubscription(topicFilter: "$share/g/a/+", options: .init(qos: .exactlyOnce)),
        ]))),
        ("suback", .subAck(MQTTSubAck(packetID: 9, reasonCodes: [.grantedQoS1, .grantedQoS2, .unspecifiedError]))),
        ("unsubscribe", .unsubscribe(MQTTUnsubscribe(packetID: 10, topicFilters: ["a/#", "b/+/c"]))),
        ("unsuback", .unsubAck(MQTTUnsubAck(packetID: 10))),
        ("pingreq", .pingReq),
        ("pingresp", .pingResp),
        ("disconnect", .disconnect(MQTTDisconnect())),
    ]

    /// 5.0 packets: all 15 types, with properties, and the short forms.
    static let v5: [(name: String, packet: MQTTPacket)] = [
        ("connect", .connect(MQTTConnect(
            protocolVersion: .v5, cleanStart: false, keepAlive: 60,
            properties: [.sessionExpiryInterval(3600), .receiveMaximum(100), .maximumPacketSize(262_144),
                         .topicAliasMaximum(10), .requestResponseInformation(1), .requestProblemInformation(0),
                         .userProperty(name: "fw", value: "1.2.3"), .authenticationMethod("SCRAM-SHA-256"),
                         .authenticationData(buffer("client-first"))],
            clientID: "drone-0002",
            will: MQTTWill(
                topic: "drones/0002/status", payload: buffer("offline"), qos: .exactlyOnce, retain: false,
                properties: [.willDelayInterval(5), .payloadFormatIndicator(1), .messageExpiryInterval(60),
                             .contentType("text/plain"), .responseTopic("r/1"), .correlationData(buffer("c")),
                             .userProperty(name: "k", value: "v")]),
            username: "drone-0002", password: buffer("pw")))),
        ("connect-minimal", .connect(MQTTConnect(protocolVersion: .v5, clientID: ""))),
        ("connect-password-only", .connect(MQTTConnect(protocolVersion: .v5, clientID: "x", password: buffer("token")))),
        ("connack", .connAck(MQTTConnAck(
            sessionPresent: true, reasonCode: .success,
            properties: [.sessionExpiryInterval(0), .assignedClientIdentifier("auto-1"), .serverKeepAlive(30),
                         .responseInformation("resp/"), .serverReference("other:1883"), .reasonString("ok"),
                         .receiveMaximum(100), .topicAliasMaximum(10), .maximumQoS(1), .retainAvailable(1),
                         .maximumPacketSize(262_144), .wildcardSubscriptionAvailable(1),
                         .subscriptionIdentifierAvailable(0), .sharedSubscriptionAvailable(1)]))),
        ("connack-refused", .connAck(MQTTConnAck(reasonCode: .unsupportedProtocolVersion))),
        ("publish", .publish(MQTTPublish(
            topic: "devices/d2/messages/events/", payload: buffer("{\"alt\":120}"), qos: .exactlyOnce, retain: true,
            dup: false, packetID: 65_535,
            properties: [.payloadFormatIndicator(1), .messageExpiryInterval(30), .topicAlias(3),
                         .responseTopic("replies/d2"), .correlationData(buffer("42")), .contentType("application/json"),
                         .subscriptionIdentifier(1), .subscriptionIdentifier(268_435_455),
                         .userProperty(name: "a", value: "1"), .userProperty(name: "a", value: "2")]))),
        ("publish-alias-only", .publish(MQTTPublish(topic: "", payload: buffer("x"), properties: [.topicAlias(3)]))),
        ("puback", .pubAck(MQTTAck(packetID: 1))),
        ("puback-reason", .pubAck(MQTTAck(packetID: 2, reasonCode: .noMatchingSubscribers))),
        ("puback-properties", .pubAck(MQTTAck(packetID: 3, reasonCode: .topicNameInvalid, properties: [.reasonString("no")]))),
        ("pubrec", .pubRec(MQTTAck(packetID: 4, reasonCode: .quotaExceeded, properties: [.userProperty(name: "q", value: "1")]))),
        ("pubrel", .pubRel(MQTTAck(packetID: 4, reasonCode: .packetIdentifierNotFound))),
        ("pubcomp", .pubComp(MQTTAck(packetID: 4))),
        ("subscribe", .subscribe(MQTTSubscribe(
            packetID: 5, properties: [.subscriptionIdentifier(16_384), .userProperty(name: "s", value: "1")],
            subscriptions: [
                MQTTSubscription(topicFilter: "a/+/c", options: .init(qos: .atLeastOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend)),
                MQTTSubscription(topicFilter: "$share/grp/x/#", options: .init(qos: .atMostOnce, retainHandling: .sendOnSubscribeIfNew)),
            ]))),
        ("suback", .subAck(MQTTSubAck(packetID: 5, properties: [.reasonString("partly")], reasonCodes: [.grantedQoS1, .topicFilterInvalid]))),
        ("unsubscribe", .unsubscribe(MQTTUnsubscribe(packetID: 6, properties: [.userProperty(name: "u", value: "")], topicFilters: ["a/+/c"]))),
        ("unsuback", .unsubAck(MQTTUnsubAck(packetID: 6, properties: [.reasonString("done")], reasonCodes: [.success, .noSubscriptionExisted]))),
        ("pingreq", .pingReq),
        ("pingresp", .pingResp),
        ("disconnect", .disconnect(MQTTDisconnect())),
        ("disconnect-reason", .disconnect(MQTTDisconnect(reasonCode: .disconnectWithWillMessage))),
        ("disconnect-properties", .disconnect(MQTTDisconnect(
            reasonCode: .serverMoved, properties: [.sessionExpiryInterval(0), .serverReference("b:1883"), .reasonString("moved")]))),
        ("auth", .auth(MQTTAuth(
            reasonCode: .continueAuthentication, properties: [.authenticationMethod("SCRAM-SHA-256"), .authenticationData(buffer("server-first"))]))),
        ("auth-empty", .auth(MQTTAuth())),
    ]

    static func all(for version: MQTTProtocolVersion) -> [(name: String, packet: MQTTPacket)] {
        version.hasProperties ? v5 : v3
    }
}
