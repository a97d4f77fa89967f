import HubCore
import Testing

@testable import HubSimulator

/// A member of a JSON object (nil for other values).
private func field(_ value: JSONValue, _ key: String) -> JSONValue? {
    guard case .object(let object) = value else { return nil }
    return object[key]
}

@Suite("A simulated drone's device protocol (topics, timing, commands, methods, twin)")
struct DroneAgentTests {
    static let t0: Int64 = 1_767_571_200_000  // 2026-01-05T00:00:00Z
    static let layout = FleetLayout(drones: 10, seed: 3)

    static func agent(_ index: Int = 0, multiplier: Double = 1, offset: Int64 = 0) -> DroneAgent {
        DroneAgent(model: DroneModel(index: index, layout: layout, seed: 3, startTime: t0), rateMultiplier: multiplier, start: t0, offset: offset)
    }

    @Test("topics: telemetry with a JSON content type, method and twin answers; incoming topics classified")
    func topics() {
        let id = "Simulated.drone-01.07"
        #expect(AzureDeviceTopics.telemetry(deviceID: id) == "devices/Simulated.drone-01.07/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8")
        #expect(AzureDeviceTopics.subscriptions(deviceID: id).first == "devices/Simulated.drone-01.07/messages/devicebound/#")
        #expect(AzureDeviceTopics.methodResponse(status: 200, requestID: "7") == "$iothub/methods/res/200/?$rid=7")
        #expect(AzureDeviceTopics.parse("$iothub/methods/POST/returnToBase/?$rid=42", deviceID: id) == .method(name: "returnToBase", requestID: "42"))
        #expect(AzureDeviceTopics.parse("$iothub/methods/POST/get%20Status/?$rid=a-b", deviceID: id) == .method(name: "get Status", requestID: "a-b"))
        #expect(AzureDeviceTopics.parse("$iothub/twin/res/204/?$rid=9&$version=4", deviceID: id) == .twinResponse(status: 204, requestID: "9"))
        #expect(AzureDeviceTopics.parse("$iothub/twin/PATCH/properties/desired/?$version=12", deviceID: id) == .desiredPatch(version: 12))
        #expect(AzureDeviceTopics.parse("devices/\(id)/messages/devicebound/%24.mid=1&iothub-ack=none", deviceID: id) == .cloudToDevice)
        #expect(AzureDeviceTopics.parse("devices/other/messages/devicebound/", deviceID: id) == .unknown)
        #expect(AzureDeviceTopics.parse("$iothub/methods/POST/noRid/", deviceID: id) == .unknown)
    }

    @Test("flight data every 5 s and status every 20 s, on their slots; a late tick skips, never bursts; the multiplier shortens both")
    func timing() {
        var agent = Self.agent()
        var out: [DroneAgent.Outgoing] = []
        for second in 0..<60 { agent.tick(now: Self.t0 + Int64(second) * 1000, into: &out) }
        #expect(out.filter { $0.kind == .flight }.count == 12)
        #expect(out.filter { $0.kind == .status }.count == 3)
        out.removeAll()
        agent.tick(now: Self.t0 + 120_000, into: &out)  // a minute late: one of each, not twelve
        #expect(out.filter { $0.kind == .flight }.count == 1 && out.filter { $0.kind == .status }.count == 1)
        var fast = Self.agent(multiplier: 2)
        out.removeAll()
        for tenth in 0..<600 { fast.tick(now: Self.t0 + Int64(tenth) * 100, into: &out) }
        #expect(out.filter { $0.kind == .flight }.count == 24 && out.filter { $0.kind == .status }.count == 6)
        #expect(out.allSatisfy { $0.kind == .reportedPatch || $0.topic.hasPrefix("devices/Simulated.drone-01.00/messages/events/") })
    }

    @Test("methods: returnToBase answers 200 in flight and 409 on the ground, getStatus 200, others 404; the twin follows")
    func methods() throws {
        var agent = Self.agent()
        var out: [DroneAgent.Outgoing] = []
        _ = agent.receive(topic: "$iothub/methods/POST/returnToBase/?$rid=1", payload: [], now: Self.t0, into: &out)
        #expect(out.first?.topic == "$iothub/methods/res/409/?$rid=1")  // still charging at its depot
        // Fly until airborne, then call it back.
        var now = Self.t0
        while agent.model.phase == .charging || agent.model.phase == .takingOff {
            now += 5_000
            agent.tick(now: now, into: &out)
            #expect(now < Self.t0 + 3 * 3_600_000)
        }
        out.removeAll()
        let handled = agent.receive(topic: "$iothub/methods/POST/returnToBase/?$rid=2", payload: Array(#"{}"#.utf8), now: now, into: &out)
        #expect(handled == .method(status: 200))
        #expect(out.first?.topic == "$iothub/methods/res/200/?$rid=2")
        let answer = try JSONParser.parse(out[0].payload)
        #expect(field(answer, "accepted") == .bool(true) && field(answer, "phase") == .string("returning"))
        let patch = try #require(out.first { $0.kind == .reportedPatch })
        #expect(field(try JSONParser.parse(patch.payload), "mode") == .string("returning"))
        out.removeAll()
        _ = agent.receive(topic: "$iothub/methods/POST/getStatus/?$rid=3", payload: [], now: now + 1000, into: &out)
        #expect(out.first?.topic == "$iothub/methods/res/200/?$rid=3")
        out.removeAll()
        #expect(agent.receive(topic: "$iothub/methods/POST/fly/?$rid=4", payload: [], now: now + 2000, into: &out) == .method(status: 404))
    }

    @Test("a C2D command {\"command\":\"returnToBase\"} turns a flying drone back; other bodies are ignored")
    func commands() throws {
        var agent = Self.agent(1)
        var out: [DroneAgent.Outgoing] = []
        var now = Self.t0
        while agent.model.phase != .enRoute {
            now += 5_000
            agent.tick(now: now, into: &out)
            #expect(now < Self.t0 + 3 * 3_600_000)
        }
        let topic = "devices/\(agent.deviceID)/messages/devicebound/%24.mid=m1"
        #expect(agent.receive(topic: topic, payload: Array("not json".utf8), now: now, into: &out) == .ignored)
        #expect(agent.receive(topic: topic, payload: Array(#"{"command":"dance"}"#.utf8), now: now, into: &out) == .command(accepted: false))
        let body = #"{"deviceId":"x","command":"returnToBase","rule":"overheat","value":99.5}"#
        #expect(agent.receive(topic: topic, payload: Array(body.utf8), now: now, into: &out) == .command(accepted: true))
        #expect(agent.model.phase == .returning)
    }

    @Test("the desired flightDataIntervalSeconds changes the interval and is acknowledged in reported properties")
    func desired() throws {
        var agent = Self.agent()
        var out: [DroneAgent.Outgoing] = []
        agent.connected(now: Self.t0, into: &out)
        let first = try JSONParser.parse(try #require(out.first).payload)
        #expect(field(first, "flightDataIntervalSeconds") == .number("5.0") && field(first, "mode") == .string("charging"))
        out.removeAll()
        #expect(agent.receive(topic: "$iothub/twin/PATCH/properties/desired/?$version=2", payload: Array(#"{"flightDataIntervalSeconds":10,"$version":2}"#.utf8),
                              now: Self.t0, into: &out) == .desired)
        #expect(agent.flightInterval == 10_000)
        #expect(try JSONParser.parse(out[0].payload) == .object(JSONObject(["flightDataIntervalSeconds": .number("10")])))
        out.removeAll()
        _ = agent.receive(topic: "$iothub/twin/PATCH/properties/desired/?$version=3", payload: Array(#"{"flightDataIntervalSeconds":0.01}"#.utf8), now: Self.t0, into: &out)
        #expect(agent.flightInterval == 10_000 && out.isEmpty)  // out of range: ignored
    }
}
