import HubDevices
import Testing

@Suite("Device request topics")
struct DeviceRequestTopicTests {
    static let prefix = DeviceRequestTopic.identityPrefix(device: "d1", module: nil)

    @Test(
        "topics a device publishes are recognised exactly",
        arguments: [
            ("devices/d1/messages/events/", DeviceRequestTopic.telemetry(propertyBag: "")),
            ("devices/d1/messages/events", .telemetry(propertyBag: "")),
            ("devices/d1/messages/events/a=1&%24.mid=x", .telemetry(propertyBag: "a=1&%24.mid=x")),
            ("devices/d1/messages/eventsX", .unknown),
            ("devices/d1/messages/devicebound/a", .unknown),
            ("$iothub/twin/GET/?$rid=42", .twinGet(requestID: "42")),
            ("$iothub/twin/GET/?$rid=", .unknown),
            ("$iothub/twin/GET/", .unknown),
            ("$iothub/twin/PATCH/properties/reported/?$rid=r&$version=3", .twinReportedPatch(requestID: "r")),
            ("$iothub/methods/res/200/?$rid=7", .methodResponse(status: 200, requestID: "7")),
            ("$iothub/methods/res/-5/?$rid=7", .methodResponse(status: -5, requestID: "7")),
            ("$iothub/methods/res/abc/?$rid=7", .unknown),
            ("$iothub/methods/res/200/?$rid=7&$rid=8", .unknown),
            ("$iothub/twin/DELETE/?$rid=1", .unknown),
            ("other/topic", .unknown),
        ])
    func recognise(_ topic: String, _ expected: DeviceRequestTopic) {
        #expect(DeviceRequestTopic(topic: topic, identityPrefix: Self.prefix) == expected)
    }

    @Test("module telemetry uses the module's prefix")
    func module() {
        let prefix = DeviceRequestTopic.identityPrefix(device: "d1", module: "m1")
        #expect(DeviceRequestTopic(topic: "devices/d1/modules/m1/messages/events/x=1", identityPrefix: prefix) == .telemetry(propertyBag: "x=1"))
        #expect(DeviceRequestTopic(topic: "devices/d1/messages/events/", identityPrefix: prefix) == .unknown)
    }

    @Test("response topics put $rid first")
    func responses() {
        #expect(DeviceResponseTopic.twinResponse(status: 204, requestID: "a", version: 5) == "$iothub/twin/res/204/?$rid=a&$version=5")
        #expect(DeviceResponseTopic.desiredPatch(version: 9) == "$iothub/twin/PATCH/properties/desired/?$version=9")
        #expect(DeviceResponseTopic.methodRequest(name: "reboot", requestID: "1f") == "$iothub/methods/POST/reboot/?$rid=1f")
    }
}
