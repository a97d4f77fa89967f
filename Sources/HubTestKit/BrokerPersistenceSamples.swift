import MQTTBroker
import MQTTCodec
import NIOCore

extension BrokerPersistenceConformance {
    /// Values the conformance checks store and expect back.
    enum Sample {
        static func bytes(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

        /// Deterministic, incompressible-looking bytes.
        static func pseudoRandomBytes(count: Int) -> [UInt8] {
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            return (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        }

        /// Strings that break naive SQL and naive text handling. All NUL-free.
        static let awkwardStrings: [String] = [
            "it's", "say \"hi\"", "a;b", "x -- y", "100%", "under_score", "back\\slash",
            "'); DROP TABLE mqtt_session; --", "tab\tnew\nline\r", "emoji 🚁📦", "日本語のトピック",
            "e\u{301}",  // decomposed é: must not come back precomposed
            "\u{FEFF}bom", "right-to-left \u{202E}txet", " leading and trailing ", "",
        ]

        static func retained(_ topic: String, payload: [UInt8]) -> PersistedRetainedMessage {
            PersistedRetainedMessage(
                publish: MQTTPublish(topic: topic, payload: bytes(payload), retain: true), receivedAtMillis: 42)
        }

        /// Every combination of QoS, No Local, Retain As Published and Retain Handling, with and without
        /// subscription identifiers (including the largest, 268,435,455).
        static func everySubscriptionOption() -> [PersistedSubscription] {
            var result: [PersistedSubscription] = []
            let identifiers: [UInt32?] = [nil, 1, 268_435_455]
            for qos in MQTTQoS.allCases {
                for noLocal in [false, true] {
                    for retainAsPublished in [false, true] {
                        for handling in MQTTSubscriptionOptions.RetainHandling.allCases {
                            let n = result.count
                            result.append(
                                PersistedSubscription(
                                    topicFilter: n % 4 == 0 ? "$share/g\(n)/t/+/\(n)" : "t/\(n)/#",
                                    options: MQTTSubscriptionOptions(
                                        qos: qos, noLocal: noLocal, retainAsPublished: retainAsPublished,
                                        retainHandling: handling),
                                    subscriptionIdentifier: identifiers[n % identifiers.count]))
                        }
                    }
                }
            }
            return result
        }

        /// One message per `PersistedMessage.State` and QoS, with properties and binary payloads.
        static func messagesInEveryState() -> [PersistedMessage] {
            [
                PersistedMessage(
                    publish: MQTTPublish(topic: "q0", payload: bytes([0, 255, 0])), state: .queued,
                    receivedAtMillis: 1),
                PersistedMessage(
                    publish: MQTTPublish(
                        topic: "q1", payload: bytes([]), qos: .atLeastOnce, packetID: nil,
                        properties: [.messageExpiryInterval(60)]),
                    state: .queued, receivedAtMillis: 2),
                PersistedMessage(
                    publish: MQTTPublish(
                        topic: "a/1", payload: bytes(Array(0...255)), qos: .atLeastOnce, retain: true, dup: true,
                        packetID: 1, properties: [.payloadFormatIndicator(0), .subscriptionIdentifier(7)]),
                    state: .awaitingPubAck, receivedAtMillis: -1),
                PersistedMessage(
                    publish: MQTTPublish(
                        topic: "a/2", payload: bytes([1]), qos: .exactlyOnce, dup: false, packetID: 65535,
                        properties: [
                            .userProperty(name: "k", value: "v1"), .userProperty(name: "k", value: "v2"),
                            .correlationData(bytes([0, 0, 1])),
                        ]),
                    state: .awaitingPubRec, receivedAtMillis: .max),
                PersistedMessage(
                    publish: MQTTPublish(
                        topic: "a/3", payload: bytes([2]), qos: .exactlyOnce, dup: true, packetID: 300),
                    state: .awaitingPubComp, receivedAtMillis: .min),
            ]
        }

        /// One of each `MQTTProperty` case, with edge values, a repeated user property and several
        /// subscription identifiers, in a deliberately unsorted order.
        static func everyPropertyKind() -> MQTTProperties {
            [
                .userProperty(name: "first", value: ""),
                .payloadFormatIndicator(1),
                .messageExpiryInterval(.max),
                .contentType("application/json; charset=utf-8"),
                .responseTopic("reply/to/me"),
                .correlationData(bytes(Array(0...31))),
                .subscriptionIdentifier(1),
                .subscriptionIdentifier(268_435_455),
                .sessionExpiryInterval(0),
                .assignedClientIdentifier("auto-123"),
                .serverKeepAlive(65535),
                .authenticationMethod("SCRAM-SHA-256"),
                .authenticationData(bytes([])),
                .requestProblemInformation(0),
                .willDelayInterval(30),
                .requestResponseInformation(1),
                .responseInformation("resp"),
                .serverReference("other.example:1883"),
                .reasonString("because"),
                .receiveMaximum(1),
                .topicAliasMaximum(0),
                .topicAlias(3),
                .maximumQoS(1),
                .retainAvailable(0),
                .userProperty(name: "first", value: "again"),
                .maximumPacketSize(268_435_460),
                .wildcardSubscriptionAvailable(1),
                .subscriptionIdentifierAvailable(0),
                .sharedSubscriptionAvailable(1),
            ]
        }

        /// A 5.0 session with subscriptions, messages in several states and inbound QoS 2 IDs.
        static func richSession(_ clientID: String) -> PersistedSession {
            PersistedSession(
                clientID: clientID,
                protocolVersion: .v5,
                expiryInterval: 3600,
                lastSeenMillis: 1_732_000_000_123,
                subscriptions: Array(everySubscriptionOption().prefix(5)),
                messages: messagesInEveryState(),
                pendingInboundQoS2: [5, 6, 7])
        }
    }
}
