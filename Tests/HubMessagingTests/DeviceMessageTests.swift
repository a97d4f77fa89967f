import HubCore
import HubMessaging
import Testing

@Suite("DeviceMessage and times")
struct DeviceMessageTests {
    @Test("size as Azure counts it: body, system property values, application names and values")
    func size() {
        var m = DeviceMessage(body: Array(repeating: 0, count: 100))
        #expect(m.sizeInBytes == 100)
        m.messageID = "abc"
        m.contentType = "application/json"
        m.ack = .full
        m.absoluteExpiryTime = at(0)
        m.applicationProperties = [.init("k", "vv"), .init("bare", nil)]
        m.connectionDeviceID = dev("ignored-hub-stamped")
        m.enqueuedTime = at(1)
        #expect(m.sizeInBytes == 100 + 3 + 16 + 4 + 24 + (1 + 2) + 4)
    }

    @Test("size limits: telemetry 256 KiB, C2D 64 KiB")
    func limits() throws {
        #expect(DeviceMessage.maxTelemetrySize == 262_144)
        #expect(DeviceMessage.maxCloudToDeviceSize == 65_536)
        var m = DeviceMessage(body: Array(repeating: 1, count: 262_140), applicationProperties: [.init("ab", "cd")])
        try m.checkSize()
        m.applicationProperties.append(.init("x", nil))
        expectMessagingError(.messageTooLarge) { try m.checkSize() }
        expectMessagingError(.messageTooLarge) { try DeviceMessage(body: Array(repeating: 0, count: 65_537)).checkSize(limit: DeviceMessage.maxCloudToDeviceSize) }
    }

    @Test("stamping telemetry overwrites whatever the sender claimed")
    func stamping() throws {
        var m = try TelemetryTopic(parsing: "devices/d/modules/m/messages/events/%24.cdid=evil&a=1").message
        m.connectionDeviceID = dev("evil")
        m.sequenceNumber = 7
        m.stampTelemetry(
            from: IdentityID(device: dev("d"), module: ModuleID(rawValue: "m")), authMethod: .x509, generationID: "g1",
            enqueuedTime: at(5), retain: true)
        #expect(m.connectionDeviceID == dev("d"))
        #expect(m.connectionModuleID?.rawValue == "m")
        #expect(m.connectionAuthMethod == .x509)
        #expect(m.connectionAuthGenerationID == "g1")
        #expect(m.enqueuedTime == at(5))
        #expect(m.messageSource == .telemetry)
        #expect(m.sequenceNumber == nil)
        #expect(m.mqttRetain)
        #expect(m.applicationProperties == [.init("a", "1")])
    }

    @Test("ISO 8601 formatting", arguments: [
        (0, "1970-01-01T00:00:00.000Z"), (1_710_410_089_653, "2024-03-14T09:54:49.653Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"), (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ] as [(Int64, String)])
    func formatting(_ millis: Int64, _ text: String) {
        #expect(Timestamp(rawValue: millis).iso8601 == text)
        #expect(Timestamp(iso8601: text) == Timestamp(rawValue: millis))
    }

    @Test("ISO 8601 parsing accepts what SDKs send", arguments: [
        ("2024-03-14T09:54:49Z", 1_710_410_089_000), ("2024-03-14T09:54:49.6536567Z", 1_710_410_089_653),
        ("2024-03-14T09:54:49.6", 1_710_410_089_600), ("2024-03-14 09:54:49.653000+00:00", 1_710_410_089_653),
        ("2024-03-14T10:54:49+01:00", 1_710_410_089_000), ("2024-03-14T08:24:49-0130", 1_710_410_089_000),
        ("2024-03-14t09:54:49z", 1_710_410_089_000),
    ] as [(String, Int64)])
    func parsing(_ text: String, _ millis: Int64) {
        #expect(Timestamp(iso8601: text) == Timestamp(rawValue: millis))
    }

    @Test("ISO 8601 parsing refuses the rest", arguments: [
        "", "2024-03-14", "2024-03-14T09:54", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-03-14T24:00:00Z",
        "2024-03-14T09:60:00Z", "2024-03-14T09:54:49.Z", "2024-03-14T09:54:49Zjunk", "2024-3-14T09:54:49Z",
        "2024-03-14T09:54:49+1", "١٩٧٠-01-01T00:00:00Z",
    ])
    func refusing(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }
}
