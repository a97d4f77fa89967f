import HubCore
import HubMessaging
import Testing

@Suite("HTTPS message headers")
struct HTTPMessageHeadersTests {
    typealias P = DeviceMessage.Property

    @Test("device send-event headers → message (names case-insensitive, app properties in order)")
    func telemetry() throws {
        let m = try HTTPMessageHeaders.telemetry(
            headers: [
                ("Authorization", "SharedAccessSignature sr=…"), ("IoTHub-App-Color", "red"), ("iothub-messageid", "m1"),
                ("IOTHUB-CORRELATIONID", "c1"), ("iothub-userid", "u1"), ("iothub-contenttype", "application/json"),
                ("iothub-contentencoding", "utf-8"), ("iothub-creation-time-utc", "2024-03-14T09:54:49Z"),
                ("iothub-app-empty", ""), ("Content-Type", "text/plain"), ("iothub-ack", "full"), ("iothub-to", "/x"),
            ], body: Array("hi".utf8))
        #expect(m.body == Array("hi".utf8))
        #expect(m.messageID == "m1")
        #expect(m.correlationID == "c1")
        #expect(m.userID == "u1")
        #expect(m.contentType == "application/json", "iothub-contenttype wins over Content-Type")
        #expect(m.contentEncoding == "utf-8")
        #expect(m.creationTimeUTC == "2024-03-14T09:54:49Z")
        #expect(m.applicationProperties == [P("Color", "red"), P("empty", "")])
        #expect(m.ack == nil, "devices do not request feedback")
        #expect(m.to == nil)
    }

    @Test("Content-Type / Content-Encoding fill in when the iothub- headers are absent")
    func plainContentHeaders() throws {
        let m = try HTTPMessageHeaders.telemetry(headers: [("content-type", "application/json"), ("Content-Encoding", "utf-8")], body: [])
        #expect(m.contentType == "application/json")
        #expect(m.contentEncoding == "utf-8")
    }

    @Test("refused headers", arguments: [
        ("iothub-app-", "x", MessagingError.Code.emptyPropertyName), ("iothub-app-k", "caf\u{E9}", .nonASCIIProperty),
        ("iothub-messageid", "\u{1F600}", .nonASCIIProperty),
    ])
    func refused(_ name: String, _ value: String, _ code: MessagingError.Code) {
        expectMessagingError(code) { _ = try HTTPMessageHeaders.telemetry(headers: [(name, value)], body: []) }
        expectMessagingError(code) { _ = try HTTPMessageHeaders.cloudToDeviceSend(headers: [(name, value)], body: []) }
    }

    @Test("service C2D send headers → message")
    func serviceSend() throws {
        let m = try HTTPMessageHeaders.cloudToDeviceSend(
            headers: [
                ("iothub-messageid", "m1"), ("iothub-correlationid", "c1"), ("iothub-userid", "svc"), ("IoTHub-Ack", "negative"),
                ("iothub-expiry", "2024-03-14T10:54:49.000Z"), ("Content-Type", "application/json"),
                ("iothub-contentencoding", "utf-8"), ("iothub-app-a", "1"), ("iothub-app-b", "2"),
            ], body: [1, 2, 3])
        #expect(m.body == [1, 2, 3])
        #expect(m.messageID == "m1")
        #expect(m.correlationID == "c1")
        #expect(m.userID == "svc")
        #expect(m.ack == .negative)
        #expect(m.absoluteExpiryTime == Timestamp(iso8601: "2024-03-14T10:54:49Z"))
        #expect(m.contentType == "application/json")
        #expect(m.contentEncoding == "utf-8")
        #expect(m.applicationProperties == [P("a", "1"), P("b", "2")])
        expectMessagingError(.invalidSystemProperty) { _ = try HTTPMessageHeaders.cloudToDeviceSend(headers: [("iothub-ack", "yes")], body: []) }
        expectMessagingError(.invalidSystemProperty) { _ = try HTTPMessageHeaders.cloudToDeviceSend(headers: [("iothub-expiry", "soon")], body: []) }
    }

    @Test("C2D receive response headers from a delivery")
    func receive() {
        let message = DeviceMessage(
            body: [9], messageID: "m1", correlationID: "c1", userID: "svc", contentType: "application/json",
            contentEncoding: "utf-8", absoluteExpiryTime: Timestamp(iso8601: "2024-03-14T10:54:49.000Z"),
            to: "/devices/dev1/messages/devicebound", ack: .full,
            applicationProperties: [P("color", "red"), P("nullprop", nil)], enqueuedTime: at(0), sequenceNumber: 42)
        let delivery = CloudToDeviceDelivery(
            device: dev("dev1"), message: message, lockToken: "lock-1", deliveryCount: 2, sequenceNumber: 42, enqueuedTime: at(0),
            expiryTime: at(3600), lockedUntil: at(60))
        let headers = HTTPMessageHeaders.cloudToDeviceReceive(delivery)
        #expect(headers.map(\.name) == [
            "ETag", "iothub-messageid", "iothub-correlationid", "iothub-sequencenumber", "iothub-to", "iothub-userid", "iothub-ack",
            "iothub-expiry", "iothub-deliverycount", "iothub-enqueuedtime", "ContentType", "ContentEncoding", "iothub-app-color",
            "iothub-app-nullprop",
        ])
        #expect(headers.map(\.value) == [
            "\"lock-1\"", "m1", "c1", "42", "/devices/dev1/messages/devicebound", "svc", "full", "2024-03-14T10:54:49.000Z", "2",
            "2024-03-14T09:54:49.000Z", "application/json", "utf-8", "red", "",
        ])
        let sparse = HTTPMessageHeaders.cloudToDeviceReceive(
            CloudToDeviceDelivery(
                device: dev("d"), message: DeviceMessage(messageID: "m"), lockToken: "t", deliveryCount: 0, sequenceNumber: 1,
                enqueuedTime: at(0), expiryTime: at(1), lockedUntil: at(1)))
        #expect(sparse.map(\.name) == ["ETag", "iothub-messageid", "iothub-sequencenumber", "iothub-deliverycount", "iothub-enqueuedtime"])
    }

    @Test("lock tokens from ETag / If-Match values and paths", arguments: [
        ("\"abc\"", "abc"), ("abc", "abc"), ("\"", "\""), ("\"\"", ""), ("\"a", "\"a"),
    ])
    func etag(_ value: String, _ token: String) {
        #expect(HTTPMessageHeaders.lockToken(fromETag: value) == token)
    }
}
