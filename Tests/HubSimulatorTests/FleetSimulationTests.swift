import HubCore
import HubSimulator
import Testing

/// What a whole-fleet run observed.
struct FleetRun {
    var drones: [DroneModel]
    /// Phase changes seen between consecutive seconds, as "from>to".
    var transitions: Set<String> = []
    var batteryOutOfRange = 0
    /// The largest distance from the area's centre, as a fraction of its radius.
    var farthest = 0.0
    /// Flight-message positions (every 5 s, not silent) inside a zone: (drone, zone id, time).
    var zoneHits: [(drone: Int, zone: String, time: Int64)] = []
    /// Any position (every second) inside a zone.
    var secondsInZones = 0

    /// Runs `count` drones for `hours`, one second at a time, watching every drone every second.
    init(count: Int, hours: Int, settings: DroneSettings, seed: UInt64) {
        let layout = FleetLayout(drones: count, seed: seed)
        drones = (0..<count).map { DroneModel(index: $0, layout: layout, settings: settings, seed: seed, startTime: exampleTime) }
        for second in 1...(hours * 3_600) {
            let now = exampleTime + Int64(second) * 1_000
            for i in drones.indices {
                let before = drones[i].phase
                drones[i].advance(to: now)
                let drone = drones[i]
                if drone.phase != before { transitions.insert("\(before)>\(drone.phase)") }
                if !(0...1).contains(drone.batteryLevel) { batteryOutOfRange += 1 }
                if second % 5 == 0 {
                    farthest = max(farthest, layout.area.center.distance(to: drone.position) / layout.area.radiusMeters)
                }
                for zone in layout.noFlyZones where zone.contains(drone.position) {
                    secondsInZones += 1
                    if second % 5 == 0, !drone.isSilent { zoneHits.append((i, zone.id, now)) }
                }
            }
        }
    }
}

@Suite("Fleet simulation")
struct FleetSimulationTests {
    /// The cycle, plus the early returns (low battery en route; returnToBase, not used here).
    static let allowedTransitions: Set<String> = [
        "charging>takingOff", "takingOff>enRoute", "enRoute>delivering", "delivering>returning", "returning>landing",
        "landing>charging", "enRoute>returning", "takingOff>returning",
    ]

    @Test("3 hours, 50 drones, no faults: deliveries, battery, area, phase order, no zone entered")
    func normalFleet() {
        var settings = DroneSettings()
        settings.faultsPerHour = 0
        let run = FleetRun(count: 50, hours: 3, settings: settings, seed: 77)
        #expect(run.drones.allSatisfy { $0.deliveries >= 1 }, "every drone delivered")
        #expect(run.drones.reduce(0) { $0 + $1.deliveries } >= 150)
        #expect(run.batteryOutOfRange == 0)
        #expect(run.farthest <= 1.1)
        #expect(run.transitions.isSubset(of: Self.allowedTransitions), "\(run.transitions.subtracting(Self.allowedTransitions))")
        #expect(run.transitions.isSuperset(of: ["charging>takingOff", "takingOff>enRoute", "enRoute>delivering", "delivering>returning", "returning>landing", "landing>charging"]))
        #expect(run.secondsInZones == 0, "normal deliveries never enter a no-fly zone")
        #expect(run.drones.allSatisfy { $0.faultLog.isEmpty })
    }

    @Test("3 hours, 50 drones, 2 faults per hour: every kind happens; no-fly faults put flights in the zone")
    func faultyFleet() {
        var settings = DroneSettings()
        settings.faultsPerHour = 2
        let run = FleetRun(count: 50, hours: 3, settings: settings, seed: 78)
        let faults = run.drones.enumerated().flatMap { i, drone in drone.faultLog.map { (drone: i, fault: $0) } }
        #expect(Set(faults.map(\.fault.kind)) == Set(DroneFault.Kind.allCases))
        #expect(run.batteryOutOfRange == 0)
        #expect(run.farthest <= 1.1)
        #expect(run.transitions.isSubset(of: Self.allowedTransitions), "\(run.transitions.subtracting(Self.allowedTransitions))")
        #expect(run.drones.filter { $0.deliveries >= 1 }.count >= 45)
        let zoneFaults = faults.filter { $0.fault.kind == .noFlyZone }
        #expect(!zoneFaults.isEmpty)
        // Those logged in the last half hour may not have reached their zone when the run ends.
        let settled = zoneFaults.filter { $0.fault.time <= exampleTime + 150 * 60_000 }
        #expect(!settled.isEmpty)
        for (drone, fault) in settled {
            // Until this drone's next zone fault (if any): at least two flight messages from inside the zone.
            let next = zoneFaults.filter { $0.drone == drone && $0.fault.time > fault.time }.map(\.fault.time).min() ?? .max
            let hits = run.zoneHits.filter { $0.drone == drone && $0.zone == fault.zoneID && $0.time >= fault.time && $0.time < next }
            #expect(hits.count >= 2, "drone \(drone) in \(fault.zoneID ?? "?") at \(fault.time)")
        }
    }

    @Test("1,000 drones × 60 s stays cheap and sane")
    func manyDrones() {
        let layout = FleetLayout(drones: 1_000, seed: 5)
        var drones = (0..<1_000).map { DroneModel(index: $0, layout: layout, seed: 5, startTime: exampleTime) }
        let end = exampleTime + 60_000
        for i in drones.indices { drones[i].advance(to: end) }
        #expect(drones.allSatisfy { $0.time == end })
        #expect(drones.allSatisfy { (0...1).contains($0.batteryLevel) && $0.position.latitude.isFinite && $0.altitude.isFinite })
        #expect(drones.allSatisfy { $0.position.distance(to: $0.homeDepot) < 60 * 70 / 3.6 })
        #expect(drones.contains { $0.phase == .takingOff || $0.phase == .enRoute })
        #expect(drones.contains { $0.phase == .charging })
        #expect(Set(drones.map(\.deviceID)).count == 1_000)
        #expect(Set(drones.map(\.deliveryID)).count == 1_000)
    }
}
