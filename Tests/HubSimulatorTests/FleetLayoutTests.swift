import HubCore
import HubSimulator
import Testing

@Suite("Fleet layout")
struct FleetLayoutTests {
    @Test("depot count: max(1, min(64, drones / 250))", arguments: [(1, 1), (50, 1), (499, 1), (1_000, 4), (10_000, 40), (100_000, 64)])
    func depotCount(drones: Int, depots: Int) {
        #expect(FleetLayout(drones: drones, seed: 1).depots.count == depots)
    }

    @Test("depots inside 0.7 × radius; three ~600 m zones at least 2 km from every depot", arguments: [(50, 1 as UInt64), (1_000, 2), (5_000, 3), (16_000, 4)])
    func placement(drones: Int, seed: UInt64) {
        let layout = FleetLayout(drones: drones, seed: seed)
        let area = layout.area
        #expect(layout.depots.allSatisfy { area.center.distance(to: $0) <= 0.7 * area.radiusMeters + 1 })
        #expect(layout.groundAltitudes.count == layout.depots.count && layout.groundAltitudes.allSatisfy { (20...200).contains($0) })
        #expect(layout.noFlyZones.map(\.id) == ["nfz-1", "nfz-2", "nfz-3"])
        for zone in layout.noFlyZones {
            #expect(zone.ring.count == 4)
            #expect(abs(zone.ring[0].distance(to: zone.ring[1]) - 600) < 5 && abs(zone.ring[1].distance(to: zone.ring[2]) - 600) < 5)
            #expect(zone.contains(zone.center))
            #expect(area.contains(zone.center))
            if drones <= 5_000 {  // a dense 64-depot map may leave no room; there the best spot is taken
                #expect(layout.depots.allSatisfy { depot in zone.ring.allSatisfy { $0.distance(to: depot) >= 2_000 } })
            }
        }
    }

    @Test("the same seed gives the same layout; another seed another")
    func seeded() {
        #expect(FleetLayout(drones: 600, seed: 9) == FleetLayout(drones: 600, seed: 9))
        #expect(FleetLayout(drones: 600, seed: 9) != FleetLayout(drones: 600, seed: 10))
    }

    @Test("no-fly zones as reference data: zoneId and a closed GeoJSON polygon of [lon, lat]")
    func referenceData() throws {
        let layout = FleetLayout(drones: 50, seed: 3)
        guard case .array(let items) = layout.noFlyZonesJSON() else { Issue.record("not an array"); return }
        #expect(items.count == 3)
        for (item, zone) in zip(items, layout.noFlyZones) {
            let entry = try #require(object(item))
            #expect(entry.keys == ["zoneId", "polygon"])
            #expect(string(entry["zoneId"]) == zone.id)
            let polygonValue = try #require(entry["polygon"])
            let polygon = try #require(object(polygonValue))
            #expect(polygon.keys == ["type", "coordinates"])
            #expect(string(polygon["type"]) == "Polygon")
            guard case .array(let rings)? = polygon["coordinates"], rings.count == 1, case .array(let positions) = rings[0] else {
                Issue.record("coordinates are not one ring"); continue
            }
            #expect(positions.count == 5 && positions.first == positions.last)
            guard case .array(let first) = positions[0], case .number(let lon)? = first.first, case .number(let lat)? = first.last else {
                Issue.record("not a [lon, lat] position"); continue
            }
            #expect(Double(lon) == Double(DroneFormat.fixed(zone.ring[0].longitude, decimals: 6)))
            #expect(Double(lat) == Double(DroneFormat.fixed(zone.ring[0].latitude, decimals: 6)))
        }
        // Valid JSON for HubCore's strict parser.
        #expect(try JSONParser.parse(JSONWriter.bytes(layout.noFlyZonesJSON())) == layout.noFlyZonesJSON())
    }

    @Test("geometry: distance, bearing and destination agree")
    func geometry() {
        let seattle = FlightArea().center
        let east = seattle.destination(bearing: .pi / 2, distance: 5_000)
        #expect(abs(seattle.distance(to: east) - 5_000) < 0.01)
        #expect(abs(seattle.bearing(to: east) - .pi / 2) < 0.001)
        let north = seattle.offset(north: 1_000, east: 0)
        #expect(abs(seattle.distance(to: north) - 1_000) < 0.01)
    }
}
