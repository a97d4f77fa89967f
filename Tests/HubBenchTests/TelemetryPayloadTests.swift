import Foundation
import Testing

@testable import HubBench

@Suite("TelemetryPayload")
struct TelemetryPayloadTests {
    static let sizes = [2, 3, 9, 10, 11, 24, 50, 100, 150, 199, 200, 201, 213, 230, 256, 1000, 4096, 256 * 1024]

    @Test("is valid JSON of exactly the asked size", arguments: sizes)
    func exactSizeValidJSON(size: Int) throws {
        for device in ["bench-0", "bench-99999", "drone \"quoted\" \\ id"] {
            let payload = try TelemetryPayload(size: size, deviceID: device, time: 1_795_514_400, seed: 7)
            #expect(payload.bytes.count == size)
            let object = try JSONSerialization.jsonObject(with: Data(payload.bytes))
            #expect(object is [String: Any])
        }
    }

    @Test("keeps the scenario's fields at the default size")
    func fieldsAt200() throws {
        let payload = try TelemetryPayload(size: 200, deviceID: "bench-0", time: 1_795_514_400, seed: 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload.bytes)) as? [String: String])
        #expect(object["deviceId"] == "bench-0")
        #expect(object["occurrenceUtcTime"] == "11/24/2026 10:00:00 +00:00")
        #expect(object["sensorType"] == "drone-event-sensor;v1")
        #expect(object["deliveryId"]?.count == 36)
        #expect(object["velocity"] != nil)
        #expect(payload.sequenceOffset != nil)
    }

    @Test("carries all fields and a pad when large")
    func allFields() throws {
        let payload = try TelemetryPayload(size: 400, deviceID: "bench-1", time: 0, seed: 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload.bytes)) as? [String: String])
        for key in ["deviceId", "occurrenceUtcTime", "sensorType", "deliveryId", "velocity", "position", "altitude", "batteryLevel", "heading", "pad"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["occurrenceUtcTime"] == "01/01/1970 00:00:00 +00:00")
        #expect(object["position"]?.split(separator: "|").count == 3)
    }

    @Test("the sequence digits sit at the end of deliveryId and stay valid JSON when patched", arguments: [100, 150, 200, 1000])
    func sequencePatch(size: Int) throws {
        let payload = try TelemetryPayload(size: size, deviceID: "bench-3", time: 1_795_514_400, seed: 9)
        let offset = try #require(payload.sequenceOffset)
        #expect(Array(payload.bytes[offset..<offset + 12]) == Array("000000000000".utf8))
        var bytes = payload.bytes
        let patched = Array("00000abc1234".utf8)
        bytes.replaceSubrange(offset..<offset + 12, with: patched)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
        #expect(object["deliveryId"]?.hasSuffix("-00000abc1234") == true)
    }

    @Test("has no sequence digits when deliveryId does not fit")
    func tooSmallForSequence() throws {
        #expect(try TelemetryPayload(size: 60, deviceID: "bench-3", time: 0, seed: 1).sequenceOffset == nil)
    }

    @Test("is the same for the same seed and differs for another")
    func seeded() throws {
        let a = try TelemetryPayload(size: 300, deviceID: "d", time: 1, seed: 42)
        let b = try TelemetryPayload(size: 300, deviceID: "d", time: 1, seed: 42)
        let c = try TelemetryPayload(size: 300, deviceID: "d", time: 1, seed: 43)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("refuses sizes outside 2 ... 256 KiB", arguments: [-1, 0, 1, 256 * 1024 + 1])
    func refusesBadSizes(size: Int) {
        #expect(throws: BenchError.self) { try TelemetryPayload(size: size, deviceID: "d", time: 0, seed: 0) }
    }

    @Test("formats the .NET-style time", arguments: [
        (Int64(0), "01/01/1970 00:00:00 +00:00"), (951_782_400, "02/29/2000 00:00:00 +00:00"),
        (1_795_514_400, "11/24/2026 10:00:00 +00:00"), (4_102_444_799, "12/31/2099 23:59:59 +00:00"),
    ])
    func occurrenceTime(time: Int64, expected: String) {
        #expect(TelemetryPayload.occurrenceTime(time) == expected)
    }
}
