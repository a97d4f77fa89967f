import HubTestKit
import HubCore
import HubMessaging
import PropertyBased
import Testing

@Suite("Property bags")
struct PropertyBagTests {
    typealias P = DeviceMessage.Property

    // MARK: decoding

    @Test("the Python SDK's captured telemetry topic (§2.2) decodes keys and values")
    func capturedSDKTopic() throws {
        let topic = try TelemetryTopic(
            parsing: "devices/dev1/messages/events/%24.mid=m%201&%24.cid=corr1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=hi%2Fthere")
        #expect(topic.identity == IdentityID(device: dev("dev1")))
        #expect(topic.message.messageID == "m 1")
        #expect(topic.message.correlationID == "corr1")
        #expect(topic.message.contentType == "application/json")
        #expect(topic.message.contentEncoding == "utf-8")
        #expect(topic.message.applicationProperties == [P("alert", "hi/there")])
        #expect(topic.message.body.isEmpty)
        #expect(topic.message.connectionDeviceID == nil, "nothing is hub-stamped by parsing")
    }

    /// A bag and what it decodes to: system properties by key, then the application properties.
    struct DecodeCase: Sendable, CustomTestStringConvertible {
        var bag: String
        var system: [String: String] = [:]
        var application: [P] = []
        var testDescription: String { bag.isEmpty ? "(empty)" : bag }
    }

    static let decodeCases: [DecodeCase] = [
        DecodeCase(bag: ""),
        DecodeCase(bag: "$.ct=application%2Fjson&$.ce=utf-8", system: ["ct": "application/json", "ce": "utf-8"]),
        DecodeCase(bag: "%24.ct=application/json", system: ["ct": "application/json"]),
        DecodeCase(bag: "a+b=c+d", application: [P("a+b", "c+d")]),
        DecodeCase(bag: "a%2Bb=c%20d", application: [P("a+b", "c d")]),
        DecodeCase(bag: "flag", application: [P("flag", nil)]),
        DecodeCase(bag: "empty=", application: [P("empty", "")]),
        DecodeCase(bag: "color=red&empty=&nullprop", application: [P("color", "red"), P("empty", ""), P("nullprop", nil)]),
        DecodeCase(bag: "k=v=w", application: [P("k", "v=w")]),
        DecodeCase(bag: "a=1&&b=2&", application: [P("a", "1"), P("b", "2")]),
        DecodeCase(bag: "b=2&a=1&b=3", application: [P("b", "2"), P("a", "1"), P("b", "3")]),
        DecodeCase(bag: "%24.MID=x", application: [P("$.MID", "x")]),
        DecodeCase(
            bag: "%24.uid=u&%24.to=%2Fdevices%2Fd%2Fmessages%2Fdevicebound&%24.on=out1&%24.ifid=urn%3Aiface&%24.sub=thermostat1",
            system: ["uid": "u", "to": "/devices/d/messages/devicebound", "on": "out1", "ifid": "urn:iface", "sub": "thermostat1"]),
        DecodeCase(bag: "iothub-creation-time-utc=2024-03-14T09%3A54%3A49Z", system: ["creation": "2024-03-14T09:54:49Z"]),
        DecodeCase(bag: "iothub-ack=full", system: ["ack": "full"]),
        DecodeCase(bag: "%24.exp=2024-03-14T10%3A54%3A49.500Z", system: ["exp": "2024-03-14T10:54:49.500Z"]),
        DecodeCase(bag: "%24.mid=first&%24.mid=second", system: ["mid": "second"]),
        DecodeCase(bag: "%24.mid&%24.cid=", system: ["cid": ""]),
        DecodeCase(bag: "%24.cdid=other&%24.cmid=mod&x=1", application: [P("x", "1")]),
        DecodeCase(bag: "%3F%26%3D%25=%2F%26%3D%25%3F", application: [P("?&=%", "/&=%?")]),
        DecodeCase(bag: "lower=%2f%2F", application: [P("lower", "//")]),
    ]

    @Test("decoding", arguments: decodeCases)
    func decode(_ c: DecodeCase) throws {
        let m = try PropertyBag.decode(Substring(c.bag))
        let system: [String: String?] = [
            "mid": m.messageID, "cid": m.correlationID, "uid": m.userID, "ct": m.contentType, "ce": m.contentEncoding,
            "to": m.to, "on": m.outputName, "ifid": m.interfaceID, "sub": m.component, "creation": m.creationTimeUTC,
            "ack": m.ack?.rawValue, "exp": m.absoluteExpiryTime?.iso8601,
        ]
        for (key, value) in system {
            #expect(value == c.system[key], "\(key)")
        }
        #expect(m.applicationProperties == c.application)
    }

    @Test("malformed bags are refused", arguments: [
        ("a=%2", MessagingError.Code.malformedEscape), ("a=%", .malformedEscape), ("%zz=1", .malformedEscape),
        ("a=%G0", .malformedEscape), ("a=caf\u{E9}", .nonASCIIProperty), ("a=caf%C3%A9", .nonASCIIProperty),
        ("%E2%82%AC=1", .nonASCIIProperty), ("=value", .emptyPropertyName), ("a=1&=2", .emptyPropertyName),
        ("iothub-ack=sometimes", .invalidSystemProperty), ("%24.exp=tomorrow", .invalidSystemProperty),
        ("%24.exp=2024-02-30T00%3A00%3A00Z", .invalidSystemProperty),
    ])
    func malformed(_ bag: String, _ code: MessagingError.Code) {
        expectMessagingError(code) { _ = try PropertyBag.decode(Substring(bag)) }
    }

    // MARK: topics

    @Test("telemetry topics: devices and modules, bag empty, absent or present", arguments: [
        ("devices/dev1/messages/events", "dev1", nil, 0),
        ("devices/dev1/messages/events/", "dev1", nil, 0),
        ("devices/dev1/messages/events/a=1&b", "dev1", nil, 2),
        ("devices/dev1/modules/mod-1/messages/events/%24.on=out&x=y", "dev1", "mod-1", 1),
        ("devices/dev1/modules/mod-1/messages/events", "dev1", "mod-1", 0),
        ("devices/a:b.c%25/messages/events/", "a:b.c%25", nil, 0),
    ] as [(String, String, String?, Int)])
    func telemetryTopics(_ topic: String, _ device: String, _ module: String?, _ applicationCount: Int) throws {
        let parsed = try TelemetryTopic(parsing: topic)
        #expect(parsed.identity.device.rawValue == device)
        #expect(parsed.identity.module?.rawValue == module)
        #expect(parsed.message.applicationProperties.count == applicationCount)
    }

    @Test("not telemetry topics", arguments: [
        "devices/dev1/messages/eventsX", "devices/dev1/messages/event", "devices//messages/events", "devices/dev1",
        "devices/dev1/messages/devicebound/", "device/dev1/messages/events", "devices/dev1/modules//messages/events",
        "devices/dev1/modules/m1/twin/messages/events", "devices/caf\u{E9}/messages/events", "$iothub/twin/GET/?$rid=1",
        "devices/dev1/modules/m1",
    ])
    func notTelemetry(_ topic: String) {
        expectMessagingError(.malformedTopic) { _ = try TelemetryTopic(parsing: topic) }
    }

    // MARK: encoding

    @Test("C2D topic: system properties first in the hub's order, then application properties in theirs")
    func encodeOrder() {
        let message = DeviceMessage(
            messageID: "m-1", correlationID: "c 1", userID: "svc", contentType: "application/json", contentEncoding: "utf-8",
            absoluteExpiryTime: Timestamp(iso8601: "2024-03-14T10:54:49.653Z"), to: "/devices/dev1/messages/devicebound",
            outputName: "ignored", interfaceID: "ignored", component: "ignored", creationTimeUTC: "ignored", ack: .full,
            applicationProperties: [P("color", "red"), P("empty", ""), P("nullprop", nil)])
        let topic = CloudToDeviceTopic.topic(for: dev("dev1"), message: message)
        #expect(
            topic == "devices/dev1/messages/devicebound/%24.mid=m-1&%24.to=%2Fdevices%2Fdev1%2Fmessages%2Fdevicebound"
                + "&%24.ct=application%2Fjson&%24.ce=utf-8&%24.cid=c%201&%24.uid=svc&%24.exp=2024-03-14T10%3A54%3A49.653Z"
                + "&iothub-ack=full&color=red&empty=&nullprop")
    }

    @Test("C2D topic: only set properties appear; no properties leave an empty last level")
    func encodeSparse() {
        #expect(CloudToDeviceTopic.topic(for: dev("d"), message: DeviceMessage()) == "devices/d/messages/devicebound/")
        #expect(CloudToDeviceTopic.topic(for: dev("d"), message: DeviceMessage(ack: .noFeedback)) == "devices/d/messages/devicebound/iothub-ack=none")
        #expect(CloudToDeviceTopic.subscriptionFilter(for: dev("d")) == "devices/d/messages/devicebound/#")
        #expect(CloudToDeviceTopic.address(of: dev("d")) == "/devices/d/messages/devicebound")
    }

    @Test("C2D topic: every '/' in keys and values is escaped, so the bag is exactly topic level 5 (index 4)", arguments: [
        ("a/b", "/x/y/"), ("k", "a/b&c=d%e+f g?h"), ("$x/", "/"),
    ])
    func encodeSlashes(_ name: String, _ value: String) throws {
        let message = DeviceMessage(to: "/devices/dev1/messages/devicebound", applicationProperties: [P(name, value)])
        let topic = CloudToDeviceTopic.topic(for: dev("dev1"), message: message)
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        #expect(levels.count == 5)
        #expect(levels[0..<4] == ["devices", "dev1", "messages", "devicebound"])
        let decoded = try PropertyBag.decode(levels[4])
        #expect(decoded.to == "/devices/dev1/messages/devicebound")
        #expect(decoded.applicationProperties == [P(name, value)])
    }

    // MARK: round trips

    /// A name that is not a system or dropped key.
    static func randomName(_ dice: inout Dice) -> String {
        while true {
            let name = dice.string(printableASCII, length: 1...12)
            if !PropertyBag.isReservedKey(name) { return name }
        }
    }

    static func randomValue(_ dice: inout Dice) -> String? {
        dice.bool(0.15) ? nil : dice.string(printableASCII, length: 0...16)
    }

    @Test("encode → decode round-trips arbitrary printable ASCII keys and values (incl. / & = % + $ ? and space)")
    func roundTrip() async {
        let input = Dice.generator { dice -> DeviceMessage in
            var m = DeviceMessage()
            func maybe(_ dice: inout Dice) -> String? { dice.bool(0.5) ? dice.string(printableASCII, length: 0...20) : nil }
            m.messageID = maybe(&dice)
            m.to = maybe(&dice)
            m.contentType = maybe(&dice)
            m.contentEncoding = maybe(&dice)
            m.correlationID = maybe(&dice)
            m.userID = maybe(&dice)
            if dice.bool() { m.absoluteExpiryTime = Timestamp(rawValue: Int64(dice.int(0...4_000_000_000)) * 1000 + Int64(dice.int(0...999))) }
            if dice.bool() { m.ack = dice.pick(DeviceMessage.Ack.allCases) }
            m.applicationProperties = (0..<dice.int(0...6)).map { _ in P(Self.randomName(&dice), Self.randomValue(&dice)) }
            return m
        }
        await propertyCheck(count: 2_000, input: input) { message in
            let bag = PropertyBag.encodeCloudToDevice(message)
            #expect(bag.utf8.allSatisfy { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: " ") })
            let decoded = try PropertyBag.decode(Substring(bag))
            #expect(decoded == message, "\(bag)")
            let topic = CloudToDeviceTopic.topic(for: dev("dev1"), message: message)
            #expect(topic.split(separator: "/", omittingEmptySubsequences: false).count == 5)
        }
    }

    @Test("encodeTelemetry → decode round-trips the sender-set system properties and application properties")
    func telemetryRoundTrip() async {
        let input = Dice.generator { dice -> DeviceMessage in
            var m = DeviceMessage()
            func maybe(_ dice: inout Dice) -> String? { dice.bool(0.5) ? dice.string(printableASCII, length: 0...20) : nil }
            m.messageID = maybe(&dice)
            m.correlationID = maybe(&dice)
            m.userID = maybe(&dice)
            m.contentType = maybe(&dice)
            m.contentEncoding = maybe(&dice)
            m.creationTimeUTC = maybe(&dice)
            m.outputName = maybe(&dice)
            m.interfaceID = maybe(&dice)
            m.component = maybe(&dice)
            if dice.bool() { m.absoluteExpiryTime = Timestamp(rawValue: Int64(dice.int(0...4_000_000_000)) * 1000) }
            m.applicationProperties = (0..<dice.int(0...6)).map { _ in P(Self.randomName(&dice), Self.randomValue(&dice)) }
            return m
        }
        await propertyCheck(count: 1_000, input: input) { message in
            let bag = PropertyBag.encodeTelemetry(message)
            #expect(!bag.contains("/"))
            let decoded = try PropertyBag.decode(Substring(bag))
            #expect(decoded == message, "\(bag)")
        }
    }

    @Test("encodeTelemetry leaves out hub stamps and cloud-to-device properties")
    func telemetryBagWithoutStamps() {
        var message = DeviceMessage(body: Array("x".utf8))
        message.messageID = "m 1"
        message.applicationProperties = [P("k", "v")]
        message.stampTelemetry(from: IdentityID(device: dev("dev1")), authMethod: .sas, generationID: "g", enqueuedTime: Timestamp(rawValue: 0))
        #expect(PropertyBag.encodeTelemetry(message) == "%24.mid=m%201&k=v")
    }

    @Test("decode → encode → decode is stable for bags written by hand (literal $, unescaped safe characters)")
    func handWrittenBags() async {
        let safe: [Character] = Array("abcXYZ019-._~$!*'(),;:@")
        let input = Dice.generator { dice -> String in
            (0..<dice.int(1...5)).map { _ in
                let key = dice.pick(["$.mid", "$.ct", "%24.cid", "iothub-ack"])
                if dice.bool(0.3) { return key == "iothub-ack" ? "iothub-ack=positive" : "\(key)=\(dice.string(safe, length: 0...8))" }
                var name = dice.string(safe, length: 1...8)
                if PropertyBag.isReservedKey(name) { name += "x" }
                return dice.bool(0.2) ? name : "\(name)=\(dice.string(safe, length: 0...8))"
            }.joined(separator: "&")
        }
        await propertyCheck(count: 1_000, input: input) { bag in
            let first = try PropertyBag.decode(Substring(bag))
            let second = try PropertyBag.decode(Substring(PropertyBag.encodeCloudToDevice(first)))
            #expect(first.messageID == second.messageID)
            #expect(first.contentType == second.contentType)
            #expect(first.correlationID == second.correlationID)
            #expect(first.ack == second.ack)
            #expect(first.applicationProperties == second.applicationProperties, "\(bag)")
        }
    }
}
