import HubCore
import HubEventLog
import Testing

@Suite struct LogEventJSONTests {
    static func event(body: [UInt8], contentType: String? = nil, encoding: String? = nil) -> LogEvent {
        var message = DeviceMessage(body: body)
        message.messageID = "m1"
        message.contentType = contentType
        message.contentEncoding = encoding
        message.connectionDeviceID = DeviceID(rawValue: "drone-1")
        message.applicationProperties = [.init("alert", "true"), .init("bare", nil), .init("alert", "second")]
        message.enqueuedTime = Timestamp(rawValue: 1_700_000_000_123)
        message.messageSource = .telemetry
        return LogEvent(offset: 41, sequenceNumber: 41, enqueuedTime: Timestamp(rawValue: 1_700_000_000_123), partitionKey: "drone-1", message: message)
    }

    @Test func jsonBodyIsEmbeddedAsJSONWithEveryField() throws {
        let json = String(decoding: Self.event(body: Array(#"{ "velocity": "58.08", "n": 1.50 }"#.utf8), contentType: "application/json", encoding: "utf-8").json(partition: 2), as: UTF8.self)
        #expect(json == #"{"deviceId":"drone-1","partition":2,"offset":41,"sequenceNumber":41,"enqueuedTime":"2023-11-14T22:13:20.123Z","#
            + #""properties":{"alert":"true","bare":""},"systemProperties":{"message-id":"m1","content-type":"application/json","content-encoding":"utf-8","#
            + #""iothub-connection-device-id":"drone-1","iothub-enqueuedtime":"2023-11-14T22:13:20.123Z","iothub-message-source":"Telemetry"},"#
            + #""body":{"velocity":"58.08","n":1.50},"bodyEncoding":"json"}"#)
    }

    @Test(arguments: [
        ("not json", nil, nil),
        (#"{"a":1}"#, "application/octet-stream", nil),
        (#"{"a":1}"#, nil, "gzip"),
        ("", nil, nil),
    ] as [(String, String?, String?)])
    func otherBodiesAreBase64(body: String, contentType: String?, encoding: String?) throws {
        let object = Self.event(body: Array(body.utf8), contentType: contentType, encoding: encoding).jsonObject(partition: 0)
        #expect(object["bodyEncoding"] == .string("base64"))
        #expect(object["body"] == .string(Base64.encode(Array(body.utf8))))
    }

    @Test func jsonWithoutContentTypeIsJSONAndAStringBodyIsNotMistakenForBase64() {
        let object = Self.event(body: Array(#""aGVsbG8=""#.utf8)).jsonObject(partition: 0)
        #expect(object["body"] == .string("aGVsbG8="))
        #expect(object["bodyEncoding"] == .string("json"))
    }
}
