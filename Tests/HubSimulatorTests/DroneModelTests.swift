import HubCore
import HubSimulator
import Testing

/// Advances `drone` one second at a time until `condition` holds, for at most `limit` seconds; records an
/// issue if it never does (unless `expected` is false: then it just runs the time).
func run(_ drone: inout DroneModel, seconds limit: Int = 4 * 3_600, expected: Bool = true, sourceLocation: SourceLocation = #_sourceLocation,
         until condition: (DroneModel) -> Bool) {
    for _ in 0..<limit {
        if condition(drone) { return }
        drone.advance(to: drone.time + 1_000)
    }
    if expected, !condition(drone) { Issue.record("condition not reached in \(limit) s", sourceLocation: sourceLocation) }
}

@Suite("Drone model")
struct DroneModelTests {
    static let layout = FleetLayout(drones: 50, seed: 2024)

    static func faulty() -> DroneSettings {
        var settings = DroneSettings()
        settings.faultsPerHour = 4
        return settings
    }

    @Test("the same seed gives the same messages however time is split; another seed differs")
    func determinism() {
        let start = exampleTime + 250  // not on a whole second
        var whole = DroneModel(index: 7, layout: Self.layout, settings: Self.faulty(), seed: 99, startTime: start)
        var split = whole
        var once = whole
        var other = DroneModel(index: 7, layout: Self.layout, settings: Self.faulty(), seed: 100, startTime: start)
        var splitter = DroneRandom(seed: 5)
        var differences = 0
        for k in 1...(2 * 720) {  // two hours of flight messages
            let target = start + Int64(k) * DroneModel.flightInterval
            whole.advance(to: target)
            while split.time < target {
                split.advance(to: min(target, split.time + Int64(splitter.integer(in: 1...7_300))))
            }
            other.advance(to: target)
            #expect(whole.flightMessage() == split.flightMessage())
            #expect(whole.statusMessage() == split.statusMessage())
            if whole.flightMessage() != other.flightMessage() { differences += 1 }
        }
        once.advance(to: whole.time)
        #expect(once.flightMessage() == whole.flightMessage())
        #expect(once.statusMessage() == whole.statusMessage())
        #expect(once.faultLog == whole.faultLog && once.deliveries == whole.deliveries)
        #expect(differences > 1_000)
        #expect(whole.deliveries >= 1)
    }

    @Test("advancing backwards or by less than a step changes no state")
    func partialSteps() {
        var a = DroneModel(index: 1, layout: Self.layout, seed: 3, startTime: exampleTime)
        let before = a.flightMessage()
        a.advance(to: exampleTime - 5_000)
        #expect(a.time == exampleTime && a.flightMessage() == before)
        a.advance(to: exampleTime + 999)
        #expect(a.time == exampleTime + 999)
        #expect(a.batteryLevel == DroneModel(index: 1, layout: Self.layout, seed: 3, startTime: exampleTime).batteryLevel)
    }

    @Test("returnToBase en route turns the drone back; it lands at its depot in time")
    func returnToBase() {
        var drone = DroneModel(index: 4, layout: Self.layout, settings: DroneSettings(), seed: 11, startTime: exampleTime)
        let onGround = drone.returnToBase()
        #expect(onGround.accepted == false, "refused on the ground")
        run(&drone) { $0.phase == .enRoute && $0.position.distance(to: $0.homeDepot) > 800 }
        let deliveries = drone.deliveries
        let result = drone.returnToBase()
        #expect(result.accepted, "\(result.detail)")
        #expect(drone.phase == .returning)
        let again = drone.returnToBase()
        #expect(again.accepted == false, "refused when already returning")
        // Expected: the way back at no less than the slowest cruise speed, the descent, and a margin.
        let distance = drone.position.distance(to: drone.homeDepot)
        let bound = Int(distance / (40 / 3.6) + 120 / 3 + 30)
        var seconds = 0
        var phases: Set<FlightPhase> = []
        while drone.phase != .charging, seconds <= bound {
            drone.advance(to: drone.time + 1_000)
            seconds += 1
            phases.insert(drone.phase)
            if drone.phase == .landing {
                let refused = drone.returnToBase()
                #expect(refused.accepted == false, "refused while landing")
            }
        }
        #expect(drone.phase == .charging, "landed within \(bound) s")
        #expect(phases.isSubset(of: [.returning, .landing, .charging]))
        #expect(drone.position.distance(to: drone.homeDepot) < 1)
        #expect(drone.heightAboveGround == 0 && drone.velocity == 0)
        #expect(drone.deliveries == deliveries, "an aborted delivery does not count")
        // The next delivery gets a new id.
        let aborted = drone.deliveryID
        run(&drone) { $0.phase == .takingOff }
        #expect(drone.deliveryID != aborted)
    }

    @Test("returnToBase while delivering climbs back first, then flies home")
    func returnWhileDelivering() {
        var drone = DroneModel(index: 5, layout: Self.layout, seed: 11, startTime: exampleTime)
        run(&drone) { $0.phase == .delivering && $0.heightAboveGround < 60 }
        let answer = drone.returnToBase()
        #expect(answer.accepted)
        let low = drone.heightAboveGround
        drone.advance(to: drone.time + 2_000)
        #expect(drone.heightAboveGround > low && drone.velocity == 0)
        run(&drone, seconds: 3_600) { $0.phase == .charging }
        #expect(drone.position.distance(to: drone.homeDepot) < 1)
    }

    @Test("twin: mode per phase; takeReportDue fires once per mode change")
    func twin() throws {
        var drone = DroneModel(index: 2, layout: Self.layout, seed: 21, startTime: exampleTime)
        let first = drone.takeReportDue()
        #expect(first, "nothing reported yet")
        let second = drone.takeReportDue()
        #expect(!second)
        var previousMode = "charging"
        var changes: [String] = []
        var phases: Set<FlightPhase> = []
        for _ in 0..<(3 * 3_600) {
            drone.advance(to: drone.time + 1_000)
            phases.insert(drone.phase)
            let properties = try #require(object(drone.reportedProperties()))
            let mode = string(properties["mode"])
            let expected = switch drone.phase {
            case .charging: "charging"
            case .takingOff, .enRoute, .delivering: "delivering"
            case .returning, .landing: "returning"
            }
            #expect(mode == expected)
            let due = drone.takeReportDue()
            #expect(due == (expected != previousMode))
            if expected != previousMode { changes.append(expected) }
            previousMode = expected
        }
        #expect(phases == Set(FlightPhase.allCases))
        #expect(Array(changes.prefix(3)) == ["delivering", "returning", "charging"])
        let properties = try #require(object(drone.reportedProperties()))
        #expect(properties.keys == ["mode", "batteryLevel", "deliveries", "homeDepot", "firmware", "lastDeliveryId"])
        #expect(properties["deliveries"] == .int(drone.deliveries))
        #expect(string(properties["firmware"]) == "2.3.1")
        #expect(string(properties["lastDeliveryId"]) == drone.deliveryID)
        #expect(object(try #require(properties["homeDepot"]))?.keys == ["lat", "lon"])
        let status = try #require(object(drone.statusJSON()))
        #expect(status.keys == ["phase", "position", "altitude", "velocity", "batteryLevel", "deliveryId"])
        #expect(string(status["phase"]) == drone.phase.rawValue)
        // Both documents survive a round trip through HubCore's writer and parser.
        #expect(try JSONParser.parse(JSONWriter.bytes(drone.reportedProperties())) == drone.reportedProperties())
        #expect(try JSONParser.parse(JSONWriter.bytes(drone.statusJSON())) == drone.statusJSON())
    }

    @Test("deliveryId: the first one before any delivery, a new one for each delivery, kept while charging")
    func deliveryIDs() {
        var drone = DroneModel(index: 3, layout: Self.layout, seed: 8, startTime: exampleTime)
        let first = drone.deliveryID
        run(&drone) { $0.phase == .takingOff }
        #expect(drone.deliveryID == first)
        run(&drone) { $0.phase == .charging }
        #expect(drone.deliveryID == first, "kept while charging")
        run(&drone) { $0.phase == .takingOff }
        #expect(drone.deliveryID != first)
    }

    @Test("overheating: 105…130 °C within about a minute, then back to normal")
    func overheating() throws {
        var drone = DroneModel(index: 6, layout: Self.layout, seed: 31, startTime: exampleTime)
        let onGroundInjected = drone.injectFault(.overheating)
        #expect(!onGroundInjected, "not on the ground")
        run(&drone) { $0.phase == .enRoute }
        run(&drone, seconds: 120, expected: false) { _ in false }
        let normal = drone.temperature
        #expect((58...82).contains(normal))
        let injected = drone.injectFault(.overheating)
        #expect(injected)
        let second = drone.injectFault(.silent)
        #expect(!second, "one fault at a time")
        drone.advance(to: drone.time + 75_000)
        #expect(drone.temperature > 100, "hot within 75 s")
        var peak = 0.0
        while drone.activeFault == .overheating {
            drone.advance(to: drone.time + 1_000)
            peak = max(peak, drone.temperature)
        }
        #expect((103...132).contains(peak))
        run(&drone, seconds: 600, expected: false) { _ in false }
        #expect(drone.temperature < 90)
        #expect(drone.faultLog.last?.kind == .overheating)
    }

    @Test("batteryDrop: at least 0.10 lower in the next status message")
    func batteryDrop() throws {
        var drone = DroneModel(index: 6, layout: Self.layout, seed: 31, startTime: exampleTime)
        run(&drone) { $0.phase == .enRoute }
        let before = try #require(Double(string(object(drone.statusMessage())["batteryLevel"]) ?? ""))
        let injected = drone.injectFault(.batteryDrop)
        #expect(injected)
        #expect(drone.activeFault == nil, "instantaneous")
        drone.advance(to: drone.time + DroneModel.statusInterval)
        let after = try #require(Double(string(object(drone.statusMessage())["batteryLevel"]) ?? ""))
        #expect(before - after > 0.10)
    }

    @Test("silent: 90…300 s without messages, flying on; allowed on the ground")
    func silent() {
        var drone = DroneModel(index: 6, layout: Self.layout, seed: 31, startTime: exampleTime)
        let injected = drone.injectFault(.silent)
        #expect(injected)
        #expect(drone.isSilent)
        var seconds = 0
        while drone.isSilent {
            drone.advance(to: drone.time + 1_000)
            seconds += 1
        }
        #expect((90...300).contains(seconds))
        run(&drone) { $0.phase == .enRoute }
        let inFlight = drone.injectFault(.silent)
        #expect(inFlight)
        let start = drone.position
        drone.advance(to: drone.time + 60_000)
        #expect(drone.isSilent && drone.position.distance(to: start) > 300)
    }

    @Test("noFlyZone: the drone flies into the zone, delivers there and comes back")
    func noFlyZone() throws {
        var drone = DroneModel(index: 8, layout: Self.layout, seed: 41, startTime: exampleTime)
        run(&drone) { $0.phase == .enRoute }
        let injected = drone.injectFault(.noFlyZone)
        #expect(injected)
        let entry = try #require(drone.faultLog.last)
        let zone = try #require(Self.layout.noFlyZones.first { $0.id == entry.zoneID })
        #expect(entry.kind == .noFlyZone && zone.contains(drone.customerLocation))
        var inside = 0
        let deliveries = drone.deliveries
        while drone.phase != .charging {
            drone.advance(to: drone.time + DroneModel.flightInterval)
            if zone.contains(drone.position) { inside += 1 }
        }
        #expect(inside >= 2)
        #expect(drone.deliveries == deliveries + 1)
        #expect(drone.activeFault == nil, "ends on landing")
        #expect(drone.position.distance(to: drone.homeDepot) < 1)
    }
}
