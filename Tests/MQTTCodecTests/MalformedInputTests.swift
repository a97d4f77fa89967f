import MQTTCodec
import NIOCore
import Testing

/// One malformed input written as bytes, with the error the decoder must throw. Ids refer to the
/// reliability plan (§2(a) M1-M43, §1.9 CVEs).
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var id: String
    var bytes: [UInt8]
    var versions: [MQTTProtocolVersion]
    var code: MQTTCodecError.Code
    var reason: MQTTReasonCode
    var configuration = MQTTDecoderConfiguration()

    var testDescription: String { id }

    init(_ id: String, _ bytes: [UInt8], _ versions: [MQTTProtocolVersion], _ code: MQTTCodecError.Code, _ reason: MQTTReasonCode) {
        self.id = id
        self.bytes = bytes
        self.versions = versions
        self.code = code
        self.reason = reason
    }
}

private typealias W = Wire
private let both: [MQTTProtocolVersion] = [.v3_1_1, .v5]
private let v3: [MQTTProtocolVersion] = [.v3_1_1]
private let v5: [MQTTProtocolVersion] = [.v5]

private func connectV3(flags: UInt8 = 0x02, rest: [UInt8] = W.string("c")) -> [UInt8] {
    W.packet(0x10, W.connectHeader(level: 4, flags: flags) + rest)
}

private func connectV5(flags: UInt8 = 0x02, properties: [UInt8] = [], rest: [UInt8] = W.string("c")) -> [UInt8] {
    W.packet(0x10, W.connectHeader(level: 5, flags: flags) + W.properties(properties) + rest)
}

private func publishV5(topic: [UInt8] = W.string("t"), properties: [UInt8]) -> [UInt8] {
    W.packet(0x30, topic + W.properties(properties))
}

private func userProperties(_ count: Int) -> [UInt8] {
    Array(repeating: [0x26] + W.string("k") + W.string("v"), count: count).flatMap { $0 }
}

enum MalformedTable {
    static let cases: [MalformedCase] = [
        // Fixed header and Remaining Length
        .init("M1 5-byte Remaining Length (CVE-2025-66168)", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], both, .malformedVariableByteInteger, .malformedPacket),
        .init("M1 4th length byte continues: refused before a 5th arrives", [0x30, 0xFF, 0xFF, 0xFF, 0xFF], both, .malformedVariableByteInteger, .malformedPacket),
        .init("M2 268,435,455 declared, 10 bytes sent (CVE-2017-7651)", [0x30, 0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: 0x61, count: 10), both, .packetTooLarge, .packetTooLarge),
        .init("M2 huge first packet is a CONNECT", [0x10, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x04] + Array("MQTT".utf8), both, .packetTooLarge, .packetTooLarge),
        .init("M2 huge non-CONNECT first packet (CVE-2023-0809)", [0x82, 0xFF, 0xFF, 0x7F, 0x00, 0x01], both, .packetTooLarge, .packetTooLarge),
        .init("M2 one byte over the default maximum", [0x30] + W.varint(MQTTDecoderConfiguration.defaultMaximumPacketSize - 3) + [0x00], both, .packetTooLarge, .packetTooLarge),
        .init("M3 non-minimal length 80 00", [0xC0, 0x80, 0x00], both, .malformedVariableByteInteger, .malformedPacket),
        .init("M3 non-minimal length 82 80 00", [0x30, 0x82, 0x80, 0x00], both, .malformedVariableByteInteger, .malformedPacket),
        .init("reserved packet type 0", [0x00, 0x00], both, .malformedPacket, .malformedPacket),
        .init("AUTH (type 15) in 3.1.1", [0xF0, 0x00], v3, .malformedPacket, .malformedPacket),
        .init("PINGREQ with flags", [0xC1, 0x00], both, .invalidFlags, .malformedPacket),
        .init("PUBREL with flags 0000", [0x60, 0x02, 0x00, 0x01], both, .invalidFlags, .malformedPacket),
        .init("PINGREQ with a body", [0xC0, 0x01, 0x00], both, .malformedPacket, .malformedPacket),
        .init("3.1.1 DISCONNECT with a body", [0xE0, 0x01, 0x00], v3, .malformedPacket, .malformedPacket),
        .init("3.1.1 PUBACK with 3 bytes", [0x40, 0x03, 0x00, 0x01, 0x00], v3, .malformedPacket, .malformedPacket),

        // CONNECT
        .init("M6 protocol name MQTX", W.packet(0x10, W.connectHeader(name: "MQTX", level: 4, flags: 2) + W.string("c")), both, .unsupportedProtocolVersion, .unsupportedProtocolVersion),
        .init("M6 protocol level 2", W.packet(0x10, W.connectHeader(level: 2, flags: 2) + W.string("c")), both, .unsupportedProtocolVersion, .unsupportedProtocolVersion),
        .init("M6 protocol level 6", W.packet(0x10, W.connectHeader(level: 6, flags: 2) + W.string("c")), both, .unsupportedProtocolVersion, .unsupportedProtocolVersion),
        .init("M6 protocol level 255", W.packet(0x10, W.connectHeader(level: 255, flags: 2) + W.string("c")), both, .unsupportedProtocolVersion, .unsupportedProtocolVersion),
        .init("M6 MQIsdp with level 4", W.packet(0x10, W.connectHeader(name: "MQIsdp", level: 4, flags: 2) + W.string("c")), both, .unsupportedProtocolVersion, .unsupportedProtocolVersion),
        .init("M7 CONNECT reserved flag (3.1.1)", connectV3(flags: 0x03), both, .invalidFlags, .malformedPacket),
        .init("M7 CONNECT reserved flag (5.0)", connectV5(flags: 0x03), both, .invalidFlags, .malformedPacket),
        .init("M8 3.1.1 password without user name", connectV3(flags: 0x42, rest: W.string("c") + W.string("pw")), both, .invalidFlags, .malformedPacket),
        .init("M9 Will QoS 3", connectV3(flags: 0x1E, rest: W.string("c") + W.string("w") + W.string("p")), both, .invalidFlags, .malformedPacket),
        .init("M9 Will QoS 1 without Will flag", connectV5(flags: 0x0A), both, .invalidFlags, .malformedPacket),
        .init("M9 Will Retain without Will flag", connectV3(flags: 0x22), both, .invalidFlags, .malformedPacket),
        .init("CONNECT ends after the protocol name", W.packet(0x10, W.string("MQTT")), both, .malformedPacket, .malformedPacket),
        .init("CONNECT with trailing bytes", connectV3(rest: W.string("c") + [0x00]), both, .malformedPacket, .malformedPacket),
        .init("M12 client ID overlong C0 80", connectV3(rest: W.raw([0xC0, 0x80])), both, .invalidUTF8, .malformedPacket),
        .init("CONNECT Will with a CONNECT-only property (CVE-2023-3592)", connectV5(flags: 0x06, rest: W.string("c") + W.properties([0x11] + W.u32(10)) + W.string("w") + W.string("p")), both, .propertyNotAllowed, .malformedPacket),
        .init("CONNECT Will with Topic Alias (CVE-2023-3592)", connectV5(flags: 0x06, rest: W.string("c") + W.properties([0x23, 0x00, 0x01]) + W.string("w") + W.string("p")), both, .propertyNotAllowed, .malformedPacket),
        .init("CONNECT with a PUBLISH-only property", connectV5(properties: [0x23, 0x00, 0x01]), both, .propertyNotAllowed, .malformedPacket),

        // PUBLISH
        .init("M12 topic overlong C0 80 (CVE-2017-7653)", W.packet(0x30, W.raw([0xC0, 0x80])), both, .invalidUTF8, .malformedPacket),
        .init("M12 topic surrogate ED A0 80", W.packet(0x30, W.raw([0x61, 0xED, 0xA0, 0x80])), both, .invalidUTF8, .malformedPacket),
        .init("M12 topic with U+0000", W.packet(0x30, W.raw([0x61, 0x00, 0x62])), both, .invalidUTF8, .malformedPacket),
        .init("topic above U+10FFFF", W.packet(0x30, W.raw([0xF4, 0x90, 0x80, 0x80])), both, .invalidUTF8, .malformedPacket),
        .init("topic with a lone continuation byte", W.packet(0x30, W.raw([0x61, 0x80])), both, .invalidUTF8, .malformedPacket),
        .init("topic truncated in a multi-byte sequence", W.packet(0x30, W.raw([0x61, 0xE2, 0x82])), both, .invalidUTF8, .malformedPacket),
        .init("M12 user property with a surrogate", publishV5(properties: [0x26] + W.raw([0xED, 0xA0, 0x80]) + W.string("v")), v5, .invalidUTF8, .malformedPacket),
        .init("M13 topic length FF FF in a 10-byte PUBLISH (CVE-2026-25627)", [0x30, 0x0A, 0xFF, 0xFF] + Array(repeating: 0x61, count: 8), both, .malformedPacket, .malformedPacket),
        .init("M14 empty topic without alias, 5.0 (CVE-2021-34432)", publishV5(topic: W.string(""), properties: []), v5, .topicNameInvalid, .protocolError),
        .init("M14 empty topic, 3.1.1 (CVE-2021-34432)", W.packet(0x30, W.string("")), v3, .topicNameInvalid, .protocolError),
        .init("M15 topic with # (QoS 0, 3.1.1)", W.packet(0x30, W.string("a/#")), v3, .topicNameInvalid, .topicNameInvalid),
        .init("M15 topic with + (QoS 0, 5.0)", publishV5(topic: W.string("+"), properties: []), v5, .topicNameInvalid, .topicNameInvalid),
        .init("M16 PUBLISH QoS 3", W.packet(0x36, W.string("t") + [0x00, 0x01]), both, .invalidFlags, .malformedPacket),
        .init("M17 PUBLISH QoS 0 with DUP", W.packet(0x38, W.string("t")), both, .invalidFlags, .malformedPacket),
        .init("M19 QoS 1 PUBLISH with packet id 0", W.packet(0x32, W.string("t") + [0x00, 0x00]), v3, .invalidPacketIdentifier, .malformedPacket),
        .init("M19 QoS 2 PUBLISH with packet id 0 (5.0)", W.packet(0x34, W.string("t") + [0x00, 0x00, 0x00]), v5, .invalidPacketIdentifier, .malformedPacket),
        .init("PUBLISH QoS 1 ends inside the packet id", W.packet(0x32, W.string("t") + [0x00]), both, .malformedPacket, .malformedPacket),

        // Acks
        .init("M19 PUBACK with packet id 0", [0x40, 0x02, 0x00, 0x00], both, .invalidPacketIdentifier, .malformedPacket),
        .init("PUBREC with packet id 0", [0x50, 0x02, 0x00, 0x00], both, .invalidPacketIdentifier, .malformedPacket),
        .init("PUBREL with packet id 0", [0x62, 0x02, 0x00, 0x00], both, .invalidPacketIdentifier, .malformedPacket),
        .init("PUBCOMP with packet id 0", [0x70, 0x02, 0x00, 0x00], both, .invalidPacketIdentifier, .malformedPacket),
        .init("3.1.1 CONNACK reserved return code 6", [0x20, 0x02, 0x00, 0x06], v3, .malformedPacket, .malformedPacket),
        .init("CONNACK reserved acknowledge flag", [0x20, 0x02, 0x02, 0x00], v3, .invalidFlags, .malformedPacket),
        .init("3.1.1 SUBACK reserved return code 3", [0x90, 0x03, 0x00, 0x01, 0x03], v3, .malformedPacket, .malformedPacket),
        .init("5.0 SUBACK without reason codes", [0x90, 0x03, 0x00, 0x01, 0x00], v5, .protocolError, .protocolError),
        .init("3.1.1 UNSUBACK with a payload", [0xB0, 0x03, 0x00, 0x01, 0x00], v3, .malformedPacket, .malformedPacket),

        // SUBSCRIBE and UNSUBSCRIBE
        .init("M19 SUBSCRIBE with packet id 0", W.packet(0x82, [0x00, 0x00] + W.string("a") + [0x00]), v3, .invalidPacketIdentifier, .malformedPacket),
        .init("M19 UNSUBSCRIBE with packet id 0", W.packet(0xA2, [0x00, 0x00] + W.string("a")), v3, .invalidPacketIdentifier, .malformedPacket),
        .init("M22 SUBSCRIBE flags 0000", W.packet(0x80, [0x00, 0x01] + W.string("a") + [0x00]), both, .invalidFlags, .malformedPacket),
        .init("M22 SUBSCRIBE flags 0011", W.packet(0x83, [0x00, 0x01] + W.string("a") + [0x00]), both, .invalidFlags, .malformedPacket),
        .init("UNSUBSCRIBE flags 0000", W.packet(0xA0, [0x00, 0x01] + W.string("a")), both, .invalidFlags, .malformedPacket),
        .init("M23 SUBSCRIBE without a filter (3.1.1)", [0x82, 0x02, 0x00, 0x01], v3, .protocolError, .protocolError),
        .init("M23 SUBSCRIBE without a filter (5.0)", [0x82, 0x03, 0x00, 0x01, 0x00], v5, .protocolError, .protocolError),
        .init("UNSUBSCRIBE without a filter", [0xA2, 0x03, 0x00, 0x01, 0x00], v5, .protocolError, .protocolError),
        .init("SUBSCRIBE filter without options byte", W.packet(0x82, [0x00, 0x01] + W.string("a")), v3, .malformedPacket, .malformedPacket),
        .init("M24 options reserved bits 6-7", W.packet(0x82, [0x00, 0x01, 0x00] + W.string("a") + [0x40]), v5, .malformedPacket, .malformedPacket),
        .init("M24 options QoS 3", W.packet(0x82, [0x00, 0x01, 0x00] + W.string("a") + [0x03]), v5, .malformedPacket, .malformedPacket),
        .init("M24 options Retain Handling 3", W.packet(0x82, [0x00, 0x01, 0x00] + W.string("a") + [0x30]), v5, .malformedPacket, .malformedPacket),
        .init("M24 3.1.1 options upper bits", W.packet(0x82, [0x00, 0x01] + W.string("a") + [0x04]), v3, .malformedPacket, .malformedPacket),
        .init("M12 SUBSCRIBE filter with U+0000", W.packet(0x82, [0x00, 0x01] + W.raw([0x61, 0x00]) + [0x00]), v3, .invalidUTF8, .malformedPacket),

        // Properties
        .init("M29 Session Expiry Interval twice", connectV5(properties: [0x11] + W.u32(1) + [0x11] + W.u32(2)), both, .duplicateProperty, .protocolError),
        .init("M29 Subscription Identifier twice in SUBSCRIBE", W.packet(0x82, [0x00, 0x01] + W.properties([0x0B, 0x01, 0x0B, 0x02]) + W.string("a") + [0x00]), v5, .duplicateProperty, .protocolError),
        .init("M29 Topic Alias twice in PUBLISH", publishV5(properties: [0x23, 0x00, 0x01, 0x23, 0x00, 0x02]), v5, .duplicateProperty, .protocolError),
        .init("M30 unknown property 0x7F", connectV5(properties: [0x7F, 0x00]), both, .unknownProperty, .malformedPacket),
        .init("M30 unknown property 0x00", publishV5(properties: [0x00]), v5, .unknownProperty, .malformedPacket),
        .init("M30 multi-byte property identifier", publishV5(properties: [0x81, 0x00]), v5, .unknownProperty, .malformedPacket),
        .init("M31 Property Length larger than the bytes left", W.packet(0x30, W.string("t") + [0x05, 0x01]), v5, .malformedPacket, .malformedPacket),
        .init("M31 5-byte Property Length in CONNECT (CVE-2026-21888)", W.packet(0x10, W.connectHeader(level: 5, flags: 2) + [0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + W.string("c")), both, .malformedVariableByteInteger, .malformedPacket),
        .init("M31 non-minimal Property Length", W.packet(0x30, W.string("t") + [0x80, 0x00]), v5, .malformedVariableByteInteger, .malformedPacket),
        .init("property value truncated", publishV5(properties: [0x02, 0x00, 0x00]), v5, .malformedPacket, .malformedPacket),
        .init("Subscription Identifier 0", W.packet(0x82, [0x00, 0x01] + W.properties([0x0B, 0x00]) + W.string("a") + [0x00]), v5, .invalidPropertyValue, .protocolError),
        .init("5-byte Subscription Identifier", publishV5(properties: [0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), v5, .malformedVariableByteInteger, .malformedPacket),
        .init("Receive Maximum 0", connectV5(properties: [0x21, 0x00, 0x00]), both, .invalidPropertyValue, .protocolError),
        .init("Maximum Packet Size 0", connectV5(properties: [0x27] + W.u32(0)), both, .invalidPropertyValue, .protocolError),
        .init("Maximum QoS 2", W.packet(0x20, [0x00, 0x00] + W.properties([0x24, 0x02])), v5, .invalidPropertyValue, .protocolError),
        .init("Payload Format Indicator 2", publishV5(properties: [0x01, 0x02]), v5, .invalidPropertyValue, .protocolError),
        .init("Request Problem Information 2", connectV5(properties: [0x17, 0x02]), both, .invalidPropertyValue, .protocolError),
        .init("Request Response Information 2", connectV5(properties: [0x19, 0x02]), both, .invalidPropertyValue, .protocolError),
        .init("Retain Available 2", W.packet(0x20, [0x00, 0x00] + W.properties([0x25, 0x02])), v5, .invalidPropertyValue, .protocolError),
        .init("Reason String in PUBLISH", publishV5(properties: [0x1F] + W.string("r")), v5, .propertyNotAllowed, .malformedPacket),
        .init("Session Expiry in PUBACK", [0x40, 0x09, 0x00, 0x01, 0x00, 0x05, 0x11] + W.u32(1), v5, .propertyNotAllowed, .malformedPacket),
        .init("M36 65 user properties (cap 64)", publishV5(properties: userProperties(65)), v5, .tooManyUserProperties, .malformedPacket),
        .init("M36 10,000 user properties", publishV5(properties: userProperties(10_000)), v5, .tooManyUserProperties, .malformedPacket),
    ]
}

@Suite("Malformed input")
struct MalformedInputTests {
    @Test("each malformed input throws its error and reason code", arguments: MalformedTable.cases)
    func malformed(_ testCase: MalformedCase) {
        for version in testCase.versions {
            var buffer = ByteBuffer(bytes: testCase.bytes)
            do {
                let packet = try MQTTPacketDecoder.decode(from: &buffer, version: version, configuration: testCase.configuration)
                Issue.record("\(version.testDescription): decoded \(String(describing: packet)) instead of throwing")
            } catch {
                #expect(error.code == testCase.code, "\(version.testDescription)")
                #expect(error.reasonCode == testCase.reason, "\(version.testDescription)")
                #expect(!error.message.isEmpty)
            }
        }
    }

    @Test("M6: the requested protocol level travels with the error")
    func requestedLevel() {
        let inputs: [([UInt8], UInt8)] = [
            (W.packet(0x10, W.connectHeader(level: 6, flags: 2) + W.string("c")), 6),
            (W.packet(0x10, W.connectHeader(name: "MQTX", level: 5, flags: 2) + W.string("c")), 5),
        ]
        for (bytes, level) in inputs {
            var buffer = ByteBuffer(bytes: bytes)
            #expect(throws: MQTTCodecError(
                .unsupportedProtocolVersion, reasonCode: .unsupportedProtocolVersion,
                message: "unsupported protocol name or level", requestedProtocolLevel: level)
            ) { try MQTTPacketDecoder.decode(from: &buffer, version: .v3_1_1) }
        }
    }

    @Test("M15: a QoS 1 PUBLISH to a wildcard topic is consumed and can be answered with PUBACK 0x90")
    func wildcardTopicIsConsumed() throws {
        let bad = W.packet(0x32, W.string("a/+/c") + [0x12, 0x34] + W.properties([]) + Array("x".utf8))
        let next: [UInt8] = [0xC0, 0x00]
        var buffer = ByteBuffer(bytes: bad + next)
        do {
            _ = try MQTTPacketDecoder.decode(from: &buffer, version: .v5)
            Issue.record("accepted a wildcard topic")
        } catch {
            #expect(error.code == .topicNameInvalid)
            #expect(error.reasonCode == .topicNameInvalid)
            #expect(error.packetConsumed)
            #expect(error.packetID == 0x1234)
            #expect(error.publishQoS == .atLeastOnce)
        }
        #expect(try MQTTPacketDecoder.decode(from: &buffer, version: .v5) == .pingReq)
    }

    @Test("errors other than M15 consume nothing")
    func errorsConsumeNothing() {
        for testCase in MalformedTable.cases where testCase.code != .topicNameInvalid || testCase.reason != .topicNameInvalid {
            for version in testCase.versions {
                var buffer = ByteBuffer(bytes: testCase.bytes)
                #expect(throws: MQTTCodecError.self) { try MQTTPacketDecoder.decode(from: &buffer, version: version) }
                #expect(buffer.readableBytes == testCase.bytes.count, "\(testCase.id)")
            }
        }
    }

    @Test("CVE-2026-25627: a PUBLISH claiming 4,096 bytes but carrying 3 waits, reads nothing past the end")
    func lengthLargerThanPayload() throws {
        var buffer = ByteBuffer(bytes: [0x30, 0x80, 0x20, 0x00, 0x01, 0x61])
        #expect(try MQTTPacketDecoder.decode(from: &buffer, version: .v5) == nil)
        #expect(buffer.readableBytes == 6)
    }

    @Test("a configured smaller maximum is enforced from the header alone")
    func configuredMaximum() throws {
        let configuration = MQTTDecoderConfiguration(maximumPacketSize: 100)
        var buffer = ByteBuffer(bytes: [0x30, 0x63])  // 101 bytes in all
        #expect(throws: MQTTCodecError.self) { try MQTTPacketDecoder.decode(from: &buffer, version: .v5, configuration: configuration) }
        var fits = ByteBuffer(bytes: [0x30, 0x62])  // 100 bytes in all: wait for the body
        #expect(try MQTTPacketDecoder.decode(from: &fits, version: .v5, configuration: configuration) == nil)
    }

    @Test("a 5.0 PUBLISH with an empty topic and a Topic Alias is accepted (the broker resolves it)")
    func emptyTopicWithAlias() throws {
        let bytes = publishV5(topic: W.string(""), properties: [0x23, 0x00, 0x00])
        #expect(try decodeAll(bytes, version: .v5) == [.publish(MQTTPublish(topic: "", payload: ByteBuffer(), properties: [.topicAlias(0)]))])
    }
}

/// §1.9 triggers that are well-formed on the wire: the decoder hands them over intact, and the broker's
/// checks (`isServerToClientOnly`, `MQTTTopic.parseFilter`) refuse them.
@Suite("CVE triggers left to the broker")
struct BrokerLevelCVETests {
    static func trigger(_ name: String) throws -> [UInt8] {
        try #require(FuzzSeeds.cveTriggers.first { $0.0 == name }?.1)
    }

    @Test("CVE-2021-28166: a CONNACK from a client decodes as a server-only packet")
    func connAckFromClient() throws {
        let packets = try decodeAll(try Self.trigger("cve-2021-28166-connack-from-client"), version: .v5)
        #expect(packets.map(\.type) == [.connect, .connAck])
        #expect(packets[1].type.isServerToClientOnly)
    }

    @Test("CVE-2025-68699 and CVE-2019-11779: the filters decode, and parseFilter refuses them with 0x8F")
    func badFiltersReachTheBroker() throws {
        for name in ["cve-2025-68699-share-without-filter", "cve-2019-11779-subscribe-65400-slashes"] {
            let version: MQTTProtocolVersion = name.contains("68699") ? .v5 : .v3_1_1
            let packets = try decodeAll(try Self.trigger(name), version: version)
            guard case .subscribe(let subscribe)? = packets.first(where: { $0.type == .subscribe }) else {
                Issue.record("\(name): no SUBSCRIBE decoded")
                continue
            }
            for subscription in subscribe.subscriptions {
                #expect(throws: MQTTCodecError.self) { try MQTTTopic.parseFilter(subscription.topicFilter) }
            }
        }
    }

    @Test("sol #15: a PUBACK as the first packet decodes (the broker closes before any session code)")
    func pubAckFirst() throws {
        #expect(try decodeAll(try Self.trigger("sol-15-puback-as-first-packet"), version: .v3_1_1) == [.pubAck(MQTTAck(packetID: 1))])
    }

    @Test("CVE-2017-7650: wildcards in client ID and user name decode as given, for the broker to refuse")
    func wildcardClientID() throws {
        guard case .connect(let connect)? = try decodeAll(try Self.trigger("cve-2017-7650-wildcard-client-id-and-user"), version: .v3_1_1).first else {
            Issue.record("no CONNECT")
            return
        }
        #expect(connect.clientID == "a/+/#")
        #expect(connect.username == "#")
    }
}
