import MQTTCodec
import NIOCore
import Testing

@Suite("Round trips and exact bytes")
struct RoundTripTests {
    @Test("every sample packet round-trips in 3.1.1", arguments: SamplePackets.v3.map(\.name))
    func roundTripV3(name: String) throws {
        let packet = try #require(SamplePackets.v3.first { $0.name == name }?.packet)
        let bytes = try encodeChecked(packet, version: .v3_1_1)
        #expect(try decodeAll(bytes, version: .v3_1_1) == [packet])
    }

    @Test("every sample packet round-trips in 5.0", arguments: SamplePackets.v5.map(\.name))
    func roundTripV5(name: String) throws {
        let packet = try #require(SamplePackets.v5.first { $0.name == name }?.packet)
        let bytes = try encodeChecked(packet, version: .v5)
        #expect(try decodeAll(bytes, version: .v5) == [packet])
    }

    @Test("every packet type has a sample", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func everyTypeCovered(version: MQTTProtocolVersion) {
        let types = Set(SamplePackets.all(for: version).map(\.packet.type))
        let expected = Set(MQTTPacketType.allCases.filter { version.hasProperties || $0 != .auth })
        #expect(types == expected)
    }

    /// One property value per identifier, each in a context where it is legal.
    static let propertyCases: [(MQTTProperty, MQTTPropertyContext)] = [
        (.payloadFormatIndicator(1), .publish), (.messageExpiryInterval(4_000_000_000), .publish),
        (.contentType("text/é"), .publish), (.responseTopic("r/€"), .publish),
        (.correlationData(ByteBuffer(bytes: [0, 1, 255])), .publish), (.subscriptionIdentifier(268_435_455), .subscribe),
        (.sessionExpiryInterval(UInt32.max), .connect), (.assignedClientIdentifier("id"), .connAck),
        (.serverKeepAlive(65_535), .connAck), (.authenticationMethod("m"), .auth),
        (.authenticationData(ByteBuffer(bytes: [9])), .auth), (.requestProblemInformation(1), .connect),
        (.willDelayInterval(10), .will), (.requestResponseInformation(1), .connect),
        (.responseInformation("ri"), .connAck), (.serverReference("sr"), .disconnect),
        (.reasonString("why"), .pubAck), (.receiveMaximum(1), .connect), (.topicAliasMaximum(0), .connAck),
        (.topicAlias(1), .publish), (.maximumQoS(0), .connAck), (.retainAvailable(0), .connAck),
        (.userProperty(name: "😀", value: ""), .unsubscribe), (.maximumPacketSize(1), .connect),
        (.wildcardSubscriptionAvailable(1), .connAck), (.subscriptionIdentifierAvailable(1), .connAck),
        (.sharedSubscriptionAvailable(0), .connAck),
    ]

    @Test("the property table covers every identifier")
    func everyPropertyCovered() {
        #expect(Set(Self.propertyCases.map(\.0.identifier)) == Set(MQTTPropertyIdentifier.allCases))
        for (property, context) in Self.propertyCases { #expect(context.allows(property.identifier)) }
    }

    @Test("every property round-trips in a packet where it is legal", arguments: 0..<propertyCases.count)
    func propertyRoundTrip(index: Int) throws {
        let (property, context) = Self.propertyCases[index]
        let packet = Self.packet(carrying: [property], in: context)
        let bytes = try encodeChecked(packet, version: .v5)
        #expect(try decodeAll(bytes, version: .v5) == [packet])
    }

    static func packet(carrying properties: MQTTProperties, in context: MQTTPropertyContext) -> MQTTPacket {
        switch context {
        case .connect: return .connect(MQTTConnect(properties: properties, clientID: "c"))
        case .will: return .connect(MQTTConnect(clientID: "c", will: MQTTWill(topic: "w", payload: ByteBuffer(), properties: properties)))
        case .connAck: return .connAck(MQTTConnAck(properties: properties))
        case .publish: return .publish(MQTTPublish(topic: "t", payload: ByteBuffer(), properties: properties))
        case .pubAck: return .pubAck(MQTTAck(packetID: 1, properties: properties))
        case .pubRec: return .pubRec(MQTTAck(packetID: 1, properties: properties))
        case .pubRel: return .pubRel(MQTTAck(packetID: 1, properties: properties))
        case .pubComp: return .pubComp(MQTTAck(packetID: 1, properties: properties))
        case .subscribe: return .subscribe(MQTTSubscribe(packetID: 1, properties: properties, subscriptions: [.init(topicFilter: "f")]))
        case .subAck: return .subAck(MQTTSubAck(packetID: 1, properties: properties, reasonCodes: [.success]))
        case .unsubscribe: return .unsubscribe(MQTTUnsubscribe(packetID: 1, properties: properties, topicFilters: ["f"]))
        case .unsubAck: return .unsubAck(MQTTUnsubAck(packetID: 1, properties: properties, reasonCodes: [.success]))
        case .disconnect: return .disconnect(MQTTDisconnect(properties: properties))
        case .auth: return .auth(MQTTAuth(properties: properties))
        }
    }

    // MARK: exact bytes from the specifications

    @Test("3.1.1 CONNECT, clean session, keep alive 60, client ID \"a\"")
    func connectV3Bytes() throws {
        let bytes = try encodeChecked(.connect(MQTTConnect(protocolVersion: .v3_1_1, clientID: "a")), version: .v3_1_1)
        #expect(bytes == [0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 0x61])
    }

    @Test("3.1 CONNECT uses MQIsdp and level 3")
    func connectV31Bytes() throws {
        let bytes = try encodeChecked(.connect(MQTTConnect(protocolVersion: .v3_1, cleanStart: false, keepAlive: 0, clientID: "a")), version: .v3_1)
        #expect(bytes == [0x10, 0x0F, 0x00, 0x06, 0x4D, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61])
    }

    @Test("5.0 CONNECT has an empty property block")
    func connectV5Bytes() throws {
        let bytes = try encodeChecked(.connect(MQTTConnect(protocolVersion: .v5, clientID: "a")), version: .v5)
        #expect(bytes == [0x10, 0x0E, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x01, 0x61])
    }

    @Test("short forms: PINGREQ, PINGRESP, PUBACK, DISCONNECT, AUTH")
    func shortForms() throws {
        #expect(try encodeChecked(.pingReq, version: .v3_1_1) == [0xC0, 0x00])
        #expect(try encodeChecked(.pingResp, version: .v5) == [0xD0, 0x00])
        #expect(try encodeChecked(.pubAck(MQTTAck(packetID: 1)), version: .v5) == [0x40, 0x02, 0x00, 0x01])
        #expect(try encodeChecked(.pubAck(MQTTAck(packetID: 1, reasonCode: .noMatchingSubscribers)), version: .v5) == [0x40, 0x03, 0x00, 0x01, 0x10])
        #expect(try encodeChecked(.pubRel(MQTTAck(packetID: 258)), version: .v3_1_1) == [0x62, 0x02, 0x01, 0x02])
        #expect(try encodeChecked(.disconnect(MQTTDisconnect()), version: .v5) == [0xE0, 0x00])
        #expect(try encodeChecked(.disconnect(MQTTDisconnect(reasonCode: .disconnectWithWillMessage)), version: .v5) == [0xE0, 0x01, 0x04])
        #expect(try encodeChecked(.disconnect(MQTTDisconnect(reasonCode: .serverShuttingDown)), version: .v3_1_1) == [0xE0, 0x00])
        #expect(try encodeChecked(.auth(MQTTAuth()), version: .v5) == [0xF0, 0x00])
    }

    @Test("PUBLISH QoS 1 and the 3.1.1 SUBACK/CONNACK mappings")
    func publishAndMappings() throws {
        let publish = MQTTPacket.publish(MQTTPublish(topic: "a/b", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 10))
        #expect(try encodeChecked(publish, version: .v3_1_1) == [0x32, 0x09, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x68, 0x69])
        #expect(try encodeChecked(publish, version: .v5) == [0x32, 0x0A, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x00, 0x68, 0x69])
        let subAck = MQTTPacket.subAck(MQTTSubAck(packetID: 1, reasonCodes: [.grantedQoS1, .notAuthorized, .topicFilterInvalid]))
        #expect(try encodeChecked(subAck, version: .v3_1_1) == [0x90, 0x05, 0x00, 0x01, 0x01, 0x80, 0x80])
        let connAck = MQTTPacket.connAck(MQTTConnAck(reasonCode: .badUserNameOrPassword))
        #expect(try encodeChecked(connAck, version: .v3_1_1) == [0x20, 0x02, 0x00, 0x04])
        #expect(try decodeAll([0x20, 0x02, 0x00, 0x01], version: .v3_1_1) == [.connAck(MQTTConnAck(reasonCode: .unsupportedProtocolVersion))])
        let unsubAck = MQTTPacket.unsubAck(MQTTUnsubAck(packetID: 3, reasonCodes: [.success]))
        #expect(try encodeChecked(unsubAck, version: .v3_1_1) == [0xB0, 0x02, 0x00, 0x03])
    }

    @Test("a 5.0 ack with a reason code but no property length decodes")
    func ackWithoutPropertyLength() throws {
        #expect(try decodeAll([0x50, 0x03, 0x00, 0x05, 0x00], version: .v5) == [.pubRec(MQTTAck(packetID: 5))])
        #expect(try decodeAll([0x70, 0x04, 0x00, 0x05, 0x92, 0x00], version: .v5) == [.pubComp(MQTTAck(packetID: 5, reasonCode: .packetIdentifierNotFound))])
        #expect(try decodeAll([0xE0, 0x02, 0x8E, 0x00], version: .v5) == [.disconnect(MQTTDisconnect(reasonCode: .sessionTakenOver))])
    }

    @Test("PUBLISH payloads are slices of the received buffer")
    func payloadIsSlice() throws {
        let bytes = try encodeChecked(.publish(MQTTPublish(topic: "t", payload: ByteBuffer(string: "payload"))), version: .v5)
        var buffer = ByteBuffer(bytes: bytes)
        guard case .publish(let publish) = try MQTTPacketDecoder.decode(from: &buffer, version: .v5) else {
            Issue.record("not a PUBLISH")
            return
        }
        let sameStorage = publish.payload.withUnsafeReadableBytes { payload in
            buffer.withVeryUnsafeBytes { whole in
                payload.baseAddress! >= whole.baseAddress! && payload.baseAddress! < whole.baseAddress! + whole.count
            }
        }
        #expect(sameStorage)
    }

    @Test("values the protocol cannot carry throw .valueNotEncodable and write nothing")
    func notEncodable() throws {
        let long = String(repeating: "a", count: 65_536)
        let cases: [(MQTTPacket, MQTTProtocolVersion)] = [
            (.publish(MQTTPublish(topic: long, payload: ByteBuffer())), .v5),
            (.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 0)), .v5),
            (.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce)), .v3_1_1),
            (.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), qos: .atMostOnce, dup: true)), .v3_1_1),
            (.publish(MQTTPublish(topic: "t", payload: ByteBuffer(repeating: 0, count: 268_435_456))), .v3_1_1),
            (.pubAck(MQTTAck(packetID: 0)), .v5),
            (.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [])), .v5),
            (.unsubscribe(MQTTUnsubscribe(packetID: 0, topicFilters: ["a"])), .v3_1_1),
            (.subAck(MQTTSubAck(packetID: 1, reasonCodes: [.noMatchingSubscribers])), .v3_1_1),
            (.connect(MQTTConnect(protocolVersion: .v3_1_1, clientID: "c", password: ByteBuffer(string: "p"))), .v3_1_1),
            (.connect(MQTTConnect(properties: [.userProperty(name: long, value: "")], clientID: "c")), .v5),
            (.publish(MQTTPublish(topic: "t", payload: ByteBuffer(), properties: [.subscriptionIdentifier(268_435_456)])), .v5),
            (.auth(MQTTAuth()), .v3_1_1),
        ]
        for (packet, version) in cases {
            var buffer = ByteBuffer(bytes: [0xAA])
            #expect(throws: MQTTCodecError.self) { try packet.encode(into: &buffer, version: version) }
            do {
                try packet.encode(into: &buffer, version: version)
            } catch {
                #expect(error.code == .valueNotEncodable)
            }
            #expect(buffer.bytes == [0xAA], "a failed encode must leave the buffer as it was")
        }
    }
}
