import HubCore
import HubSimulator
import Testing

/// The scenario's two example messages, verbatim apart from the shortened deliveryId of the second.
let exampleFlight = #"{"occurrenceUtcTime":"04/17/2018 20:25:09 +00:00","deviceId":"Simulated.drone-01.35","deliveryId":"5ae2a8c6-0b41-4c0f-9a4c-1f2e3d4c5b6a","sensorType":"drone-event-sensor;v1","velocity":"58.08","acceleration":"2.52","position":"60.631945|-99.579919|504.99","flightStatus":"1"}"#
let exampleStatus = #"{"occurrenceUtcTime":"04/17/2018 20:25:29 +00:00","deviceId":"Simulated.drone-01.35","deliveryId":"5ae2a8c6-0b41-4c0f-9a4c-1f2e3d4c5b6a","sensorType":"drone-state-sensor;v1","temperature":"74.74","batteryStatus":"low","batteryLevel":"0.25"}"#

/// Parses `bytes` as a JSON object, or records an issue.
func object(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
    guard case .object(let object) = try JSONParser.parse(bytes) else {
        Issue.record("not a JSON object", sourceLocation: sourceLocation)
        return JSONObject()
    }
    return object
}

func object(_ value: JSONValue) -> JSONObject? {
    if case .object(let object) = value { return object }
    return nil
}

func string(_ value: JSONValue?) -> String? {
    if case .string(let text)? = value { return text }
    return nil
}

func matches(_ text: String?, _ pattern: String) throws -> Bool {
    guard let text else { return false }
    return try text.wholeMatch(of: Regex(pattern)) != nil
}

/// 2018-04-17T20:25:09Z.
let exampleTime: Int64 = 1_523_996_709_000

@Suite("Drone messages")
struct DroneMessageTests {
    static let timePattern = #"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+00:00$"#
    static let positionPattern = #"^-?\d+\.\d{6}\|-?\d+\.\d{6}\|-?\d+\.\d{2}$"#
    static let twoDecimals = #"^-?\d+\.\d{2}$"#
    static let uuidV4 = #"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#
    static let flightKeys = ["occurrenceUtcTime", "deviceId", "deliveryId", "sensorType", "velocity", "acceleration", "position", "flightStatus"]
    static let statusKeys = ["occurrenceUtcTime", "deviceId", "deliveryId", "sensorType", "temperature", "batteryStatus", "batteryLevel"]

    /// A drone of a 200-drone fleet, advanced until it is airborne.
    static func airborneDrone() -> DroneModel {
        var drone = DroneModel(index: 135, layout: FleetLayout(drones: 200, seed: 1), seed: 9, startTime: exampleTime)
        var t = exampleTime
        while drone.phase != .enRoute || drone.velocity < 20 {
            t += 1_000
            drone.advance(to: t)
        }
        return drone
    }

    @Test("the scenario's examples have exactly our keys, in our order")
    func examplesMatch() throws {
        #expect(try object(Array(exampleFlight.utf8)).keys == Self.flightKeys)
        #expect(try object(Array(exampleStatus.utf8)).keys == Self.statusKeys)
        let drone = Self.airborneDrone()
        #expect(try object(drone.flightMessage()).keys == object(Array(exampleFlight.utf8)).keys)
        #expect(try object(drone.statusMessage()).keys == object(Array(exampleStatus.utf8)).keys)
    }

    @Test("flight data: keys, order, string values and formats, in the air and on the ground")
    func flightFormat() throws {
        let airborne = Self.airborneDrone()
        let grounded = DroneModel(index: 0, layout: FleetLayout(drones: 1, seed: 1), seed: 1, startTime: exampleTime)
        for (drone, status) in [(airborne, "1"), (grounded, "0")] {
            let message = try object(drone.flightMessage())
            #expect(message.keys == Self.flightKeys)
            #expect(message.members.allSatisfy { string($0.value) != nil }, "every value is a string")
            #expect(try matches(string(message["occurrenceUtcTime"]), Self.timePattern))
            #expect(string(message["deviceId"]) == drone.deviceID)
            #expect(try matches(string(message["deliveryId"]), Self.uuidV4))
            #expect(string(message["sensorType"]) == "drone-event-sensor;v1")
            #expect(try matches(string(message["velocity"]), Self.twoDecimals))
            #expect(try matches(string(message["acceleration"]), Self.twoDecimals))
            #expect(try matches(string(message["position"]), Self.positionPattern))
            #expect(string(message["flightStatus"]) == status)
        }
        let message = try object(airborne.flightMessage())
        #expect(string(message["deviceId"]) == "Simulated.drone-02.35")
        let parts = try #require(string(message["position"])).split(separator: "|").compactMap { Double($0) }
        #expect(parts.count == 3)
        #expect(abs(parts[0] - airborne.position.latitude) < 1e-6 && abs(parts[1] - airborne.position.longitude) < 1e-6)
        #expect(abs(parts[2] - airborne.altitude) < 0.006)
        #expect(abs((Double(try #require(string(message["velocity"]))) ?? -1) - airborne.velocity) < 0.006)
    }

    @Test("operating status: keys, order, string values and formats")
    func statusFormat() throws {
        let drone = Self.airborneDrone()
        let message = try object(drone.statusMessage())
        #expect(message.keys == Self.statusKeys)
        #expect(message.members.allSatisfy { string($0.value) != nil })
        #expect(try matches(string(message["occurrenceUtcTime"]), Self.timePattern))
        #expect(try matches(string(message["deliveryId"]), Self.uuidV4))
        #expect(string(message["deliveryId"]) == drone.deliveryID)
        #expect(string(message["sensorType"]) == "drone-state-sensor;v1")
        #expect(try matches(string(message["temperature"]), Self.twoDecimals))
        #expect(try matches(string(message["batteryLevel"]), #"^(0\.\d{2}|1\.00)$"#))
        #expect(["ok", "low", "critical"].contains(string(message["batteryStatus"]) ?? ""))
    }

    @Test("occurrenceUtcTime is MM/dd/yyyy HH:mm:ss +00:00 in UTC", arguments: [
        (exampleTime, "04/17/2018 20:25:09 +00:00"),
        (exampleTime + 20_999, "04/17/2018 20:25:29 +00:00"),
        (0, "01/01/1970 00:00:00 +00:00"),
        (951_782_400_000, "02/29/2000 00:00:00 +00:00"),
        (1_735_689_599_000, "12/31/2024 23:59:59 +00:00"),
        (-1, "12/31/1969 23:59:59 +00:00"),
    ])
    func occurrenceTime(milliseconds: Int64, text: String) {
        #expect(DroneFormat.occurrenceTime(milliseconds) == text)
    }

    @Test("fixed decimals round half away from zero and never print -0", arguments: [
        (58.075_001, 2, "58.08"), (2.5, 2, "2.50"), (-99.579_919_4, 6, "-99.579919"), (60.631_945, 6, "60.631945"),
        (-0.001, 2, "0.00"), (0, 2, "0.00"), (1, 2, "1.00"), (504.994, 2, "504.99"), (Double.nan, 2, "0.00"), (7.6, 0, "8"),
    ])
    func fixed(value: Double, decimals: Int, text: String) {
        #expect(DroneFormat.fixed(value, decimals: decimals) == text)
    }

    @Test("device ids: Simulated.drone-GG.NN", arguments: [
        (0, "Simulated.drone-01.00"), (35, "Simulated.drone-01.35"), (99, "Simulated.drone-01.99"), (100, "Simulated.drone-02.00"),
        (135, "Simulated.drone-02.35"), (999, "Simulated.drone-10.99"), (9_999, "Simulated.drone-100.99"),
    ])
    func deviceIDs(index: Int, id: String) {
        #expect(DroneModel.deviceID(index: index) == id)
    }

    @Test("batteryStatus follows the level as sent")
    func batteryStatus() throws {
        var drone = Self.airborneDrone()
        var seen: Set<String> = []
        var t = drone.time
        // Drain a drone by dropping its battery repeatedly; check the status against the sent level.
        for _ in 0..<180 where seen.count < 3 {
            if drone.activeFault == nil, drone.phase.isAirborne { drone.injectFault(.batteryDrop) }
            let message = try object(drone.statusMessage())
            let level = try #require(Double(string(message["batteryLevel"]) ?? ""))
            let expected = level >= 0.30 ? "ok" : level >= 0.10 ? "low" : "critical"
            #expect(string(message["batteryStatus"]) == expected)
            seen.insert(expected)
            t += 20_000
            drone.advance(to: t)
        }
        #expect(seen == ["ok", "low", "critical"])
    }
}
