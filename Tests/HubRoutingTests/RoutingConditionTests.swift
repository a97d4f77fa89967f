import HubCore
import HubEventLog
import HubTwins
import Testing

@testable import HubRouting

/// A telemetry event as the log holds it.
func event(
    _ body: String = "{}", device: String = "drone-1", properties: [(String, String?)] = [], contentType: String? = "application/json",
    contentEncoding: String? = "utf-8", source: DeviceMessage.Source? = .telemetry, offset: Int64 = 0, time: Timestamp = Timestamp(rawValue: 1_795_000_000_000)
) -> LogEvent {
    var message = DeviceMessage(
        body: Array(body.utf8), messageID: "m\(offset)", applicationProperties: properties.map { .init($0.0, $0.1) },
        connectionDeviceID: DeviceID(rawValue: device))
    message.contentType = contentType
    message.contentEncoding = contentEncoding
    message.messageSource = source
    return LogEvent(offset: offset, sequenceNumber: offset, enqueuedTime: time, partitionKey: device, message: message)
}

@Suite("Route conditions (IoT Hub routing query syntax)")
struct RoutingConditionTests {
    func matches(_ condition: String, _ event: LogEvent, twin: JSONValue? = nil) throws -> Bool {
        try RoutingCondition(parsing: condition).matches(CompiledRouting.document(event, twin: twin, body: true))
    }

    @Test("application properties by bare name, system properties by $ name")
    func properties() throws {
        let e = event(properties: [("processingPath", "hot"), ("severity", "3"), ("flag", nil)])
        #expect(try matches("processingPath = 'hot'", e))
        #expect(try !matches("processingPath = 'cold'", e))
        // Application properties are strings: a number never equals one (undefined → false), AS_NUMBER converts.
        #expect(try !matches("severity = 3", e))
        #expect(try matches("AS_NUMBER(severity) >= 3", e))
        #expect(try matches("flag = ''", e))
        #expect(try matches("$connectionDeviceId = 'drone-1'", e))
        #expect(try matches("$contentType = 'application/json' AND $contentEncoding = 'utf-8'", e))
        #expect(try matches("$messageSource = 'Telemetry'", e))
        #expect(try matches("NOT IS_DEFINED(missing)", e))
        #expect(try !matches("missing = 'x'", e))
    }

    @Test("$body paths into JSON bodies; a non-JSON body is undefined")
    func body() throws {
        let json = event(#"{"Weather":{"Temperature":50,"Readings":[1,2,3]},"sensorType":"drone-event-sensor;v1","velocity":"58.08"}"#)
        #expect(try matches("$body.Weather.Temperature > 40", json))
        #expect(try matches("$body.Weather.Readings[1] = 2", json))
        #expect(try matches("STARTS_WITH($body.sensorType, 'drone-event')", json))
        #expect(try matches("AS_NUMBER($body.velocity) > 50.5", json))
        #expect(try matches("$body.Weather.Temperature > 40 AND $connectionDeviceId IN ['drone-1', 'drone-2']", json))
        let binary = event(#"{"Weather":{"Temperature":50}}"#, contentType: "application/octet-stream")
        #expect(try !matches("$body.Weather.Temperature > 40", binary))
        #expect(try matches("NOT IS_DEFINED($body)", binary))
        let utf16 = event(#"{"a":1}"#, contentEncoding: "utf-16")
        #expect(try !matches("$body.a = 1", utf16))
    }

    @Test("$twin paths: tags and properties, canonical spelling")
    func twin() throws {
        let twin: JSONValue = .object(JSONObject([
            "deviceId": .string("drone-1"),
            "tags": .object(JSONObject(["fleet": .string("north"), "depot": .object(JSONObject(["id": .number("7")]))])),
            "properties": .object(JSONObject([
                "desired": .object(JSONObject(["mode": .string("delivery")])),
                "reported": .object(JSONObject(["firmware": .string("2.1.0")])),
            ])),
        ]))
        let e = event()
        #expect(try matches("$twin.tags.fleet = 'north'", e, twin: twin))
        #expect(try matches("$twin.Tags.depot.id = 7", e, twin: twin))
        #expect(try matches("$twin.properties.desired.mode = 'delivery' AND $twin.Properties.Reported.firmware >= '2'", e, twin: twin))
        #expect(try !matches("$twin.tags.fleet = 'north'", e))
    }

    @Test("routing functions: math, strings, type checks")
    func functions() throws {
        let e = event(#"{"t":-4.5,"name":"Drone-Alpha","n":16}"#)
        for condition in [
            "ABS($body.t) = 4.5", "CEILING($body.t) = -4", "FLOOR($body.t) = -5", "SIGN($body.t) = -1", "SQRT($body.n) = 4",
            "SQUARE(3) = 9", "POWER(2, 10) = 1024", "EXP(0) = 1", "LENGTH($body.name) = 11", "LOWER($body.name) = 'drone-alpha'",
            "UPPER($body.name) = 'DRONE-ALPHA'", "SUBSTRING($body.name, 6) = 'Alpha'", "SUBSTRING($body.name, 0, 5) = 'Drone'",
            "INDEX_OF($body.name, 'Alpha') = 6", "INDEX_OF($body.name, 'x') = -1", "CONTAINS($body.name, '-Al')",
            "CONCAT($body.name, '/', $connectionDeviceId) = 'Drone-Alpha/drone-1'", "ENDS_WITH($body.name, 'pha')",
            "IS_NUMBER($body.t) AND IS_STRING($body.name) AND NOT IS_BOOL($body.t) AND IS_PRIMITIVE($body.n)",
            "IS_OBJECT($body) AND NOT IS_ARRAY($body)", "$body.n % 5 = 1 AND $body.n / 4 = 4 AND -$body.t = 4.5",
        ] {
            #expect(try matches(condition, e), "\(condition)")
        }
    }

    @Test("a condition that is null or undefined routes nothing; only exactly true matches")
    func undefinedIsFalse() throws {
        let e = event(#"{"a":null,"s":"x"}"#)
        #expect(try !matches("$body.a", e))
        #expect(try !matches("$body.s", e))
        #expect(try !matches("$body.s > 1", e))
        #expect(try matches("IS_NULL($body.a)", e))
        #expect(try matches("true", e))
        #expect(try matches("", e))
    }

    @Test("bad conditions are refused with the line and column", arguments: [
        ("$body.a >", 1, 10), ("a = 'x' b", 1, 9), ("COUNT(a) > 1", 1, 1), ("NOSUCH(a)", 1, 1), ("LENGTH(a, b)", 1, 1),
        ("a = 'open", 1, 5), ("a = 1\nAND (b = 2", 2, 11),
    ])
    func errors(_ text: String, _ line: Int, _ column: Int) {
        #expect {
            _ = try RoutingCondition(parsing: text)
        } throws: { error in
            guard let error = error as? TwinError else { return false }
            return error.line == line && error.column == column
        }
    }

    @Test("twin queries keep their smaller function set")
    func twinQueriesUnchanged() {
        #expect(throws: TwinError.self) { _ = try TwinQuery(parsing: "SELECT * FROM devices WHERE LENGTH(tags.x) = 1") }
        #expect(throws: Never.self) { _ = try TwinQuery(parsing: "SELECT * FROM devices WHERE STARTS_WITH(tags.x, 'a')") }
    }

    @Test("roots tell whether the body or the twin is needed")
    func roots() throws {
        let c = try RoutingCondition(parsing: "$body.a = 1 OR $twin.tags.b = 2 OR level = 'x'")
        #expect(c.readsBody && c.readsTwin)
        #expect(c.roots == ["$body", "$twin", "level"])
        #expect(try !RoutingCondition(parsing: "level = 'x'").readsBody)
    }
}
