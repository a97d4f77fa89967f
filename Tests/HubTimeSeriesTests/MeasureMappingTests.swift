import HubCore
import Testing

@testable import HubTimeSeries

private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

@Suite("Messages → time-series points (the default mapping)")
struct MeasureMappingTests {
    let mapping = MeasureMapping()

    @Test("the scenario's flight data: numeric strings parsed, position split, time from occurrenceUtcTime")
    func flightData() throws {
        let body = try parse(#"""
            {"occurrenceUtcTime":"04/17/2018 20:25:09 +00:00","deviceId":"Simulated.drone-01.35","sensorType":"drone-event-sensor;v1",
             "deliveryId":"5ae2a8c6-0b41-4c0f-9a4c-1f2e3d4c5b6a","velocity":"58.08","acceleration":"2.52",
             "position":"60.631945|-99.579919|504.99","flightStatus":"1"}
            """#)
        let result = mapping.points(body: body, enqueuedTime: 0)
        #expect(result.time == Timestamp(iso8601: "2018-04-17T20:25:09Z")!.rawValue)
        #expect(result.measures.map(\.name) == ["velocity", "acceleration", "position.lat", "position.lon", "position.alt", "flightStatus"])
        #expect(result.measures.map(\.value) == [58.08, 2.52, 60.631945, -99.579919, 504.99, 1])
    }

    @Test("the scenario's status: numeric strings are numbers, batteryStatus a string measure, identifiers are not measures")
    func status() throws {
        let body = try parse(#"{"occurrenceUtcTime":"04/17/2018 20:25:29 +00:00","deviceId":"d","sensorType":"drone-state-sensor;v1","temperature":"74.74","batteryStatus":"low","batteryLevel":"0.25"}"#)
        let result = mapping.points(body: body, enqueuedTime: 0)
        #expect(result.measures.map(\.name) == ["temperature", "batteryStatus", "batteryLevel"])
        #expect(result.measures.map(\.type) == [.float, .string, .float])
        #expect(result.measures.map(\.text) == [nil, "low", nil])
        #expect(result.tags == "")
    }

    @Test("tag fields tag every series of the message; long strings are dropped and counted; strings can be turned off")
    func tagsAndStringLimits() throws {
        var mapping = MeasureMapping()
        mapping.tagFields = ["motor", "side"]
        mapping.maximumStringBytes = 8
        let body = try parse(#"{"side":"left","motor":"front","rpm":5200,"mode":"cruise","note":"much too long"}"#)
        let result = mapping.points(body: body, enqueuedTime: 0)
        #expect(result.tags == "motor=front,side=left")
        #expect(result.measures.map(\.name) == ["rpm", "mode"])
        #expect(result.dropped == 1)
        mapping.storeStrings = false
        #expect(mapping.points(body: body, enqueuedTime: 0).measures.map(\.name) == ["rpm"])
    }

    @Test("booleans are boolean measures; numbers are floats")
    func booleans() throws {
        let body = try parse(#"{"armed":true,"engine":{"on":false,"rpm":5200},"note":"x"}"#)
        let result = mapping.points(body: body, enqueuedTime: 0)
        #expect(result.measures.map(\.name) == ["armed", "engine.on", "engine.rpm", "note"])
        #expect(result.measures.map(\.value) == [1, 0, 5200, 0])
        #expect(result.measures.map(\.type) == [.boolean, .boolean, .float, .string])
    }

    @Test("time: ISO 8601, epoch numbers, else the enqueued time; bad time text falls back")
    func time() throws {
        #expect(mapping.points(body: try parse(#"{"timestamp":"2026-11-24T10:00:00.250Z","v":1}"#), enqueuedTime: 7).time == Timestamp(iso8601: "2026-11-24T10:00:00.250Z")!.rawValue)
        #expect(mapping.points(body: try parse(#"{"time":1795000000,"v":1}"#), enqueuedTime: 7).time == 1_795_000_000_000)
        #expect(mapping.points(body: try parse(#"{"time":1795000000123,"v":1}"#), enqueuedTime: 7).time == 1_795_000_000_123)
        #expect(mapping.points(body: try parse(#"{"v":1}"#), enqueuedTime: 7).time == 7)
        #expect(mapping.points(body: try parse(#"{"timestamp":"yesterday","v":1}"#), enqueuedTime: 7).time == 7)
        #expect(mapping.points(body: try parse(#"{"time":1795000000,"v":1}"#), enqueuedTime: 7).measures.map(\.name) == ["v"])
    }

    @Test("nested objects are flattened with dots; arrays and nulls are not measures; strings that are not plain numbers stay strings")
    func shapes() throws {
        let body = try parse(#"{"engine":{"temperature":91.5,"rpm":"4200","ok":true},"list":[1,2],"n":null,"hex":"0x1F","word":"nan","big":"1e400","neg":"-3"}"#)
        let measures = mapping.points(body: body, enqueuedTime: 0).measures
        #expect(measures.map(\.name) == ["engine.temperature", "engine.rpm", "engine.ok", "hex", "word", "big", "neg"])
        #expect(measures.filter { $0.type == .string }.map(\.text) == ["0x1F", "nan", "1e400"])
        #expect(mapping.points(body: .array([.number("1")]), enqueuedTime: 5).measures.isEmpty)
    }

    @Test("a message with too many fields keeps the first ones and counts the rest")
    func bounded() throws {
        var object = JSONObject()
        for i in 0..<300 { object["m\(i)"] = .number(String(i)) }
        let result = mapping.points(body: .object(object), enqueuedTime: 0)
        #expect(result.measures.count == 256 && result.dropped == 44)
    }
}
