import HubCore

/// The circle the fleet flies in: every customer lies inside it, every depot inside 0.7 × its radius.
public struct FlightArea: Sendable, Hashable {
    /// Where the area is centred; Seattle by default.
    public var center: GeoPoint
    /// The area's radius in metres.
    public var radiusMeters: Double

    /// An area of `radiusMeters` around `center` (by default 15 km around Seattle).
    public init(center: GeoPoint = GeoPoint(latitude: 47.6062, longitude: -122.3321), radiusMeters: Double = 15_000) {
        self.center = center
        self.radiusMeters = radiusMeters
    }

    /// Whether `point` lies inside the circle.
    public func contains(_ point: GeoPoint) -> Bool {
        center.distance(to: point) <= radiusMeters
    }
}

/// An area drones must not enter: a polygon in latitude/longitude.
public struct NoFlyZone: Sendable, Hashable {
    /// The zone's name in reference data and alarms: `nfz-1`, `nfz-2`, …
    public var id: String
    /// The polygon's corners, counter-clockwise, not closed (the first corner is not repeated).
    public var ring: [GeoPoint]

    /// A zone named `id` with the corners `ring` (not closed).
    public init(id: String, ring: [GeoPoint]) {
        self.id = id
        self.ring = ring
    }

    /// The mean of the corners (the square's centre for the generated zones).
    public var center: GeoPoint {
        guard !ring.isEmpty else { return GeoPoint(latitude: 0, longitude: 0) }
        let n = Double(ring.count)
        return GeoPoint(latitude: ring.reduce(0) { $0 + $1.latitude } / n, longitude: ring.reduce(0) { $0 + $1.longitude } / n)
    }

    /// Whether `point` lies inside the polygon (even-odd rule on longitude/latitude, as a planar
    /// `ST_WITHIN` over the GeoJSON polygon decides for zones this small).
    public func contains(_ point: GeoPoint) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let a = ring[i], b = ring[j]
            if (a.latitude > point.latitude) != (b.latitude > point.latitude),
                point.longitude < (b.longitude - a.longitude) * (point.latitude - a.latitude) / (b.latitude - a.latitude) + a.longitude
            {
                inside.toggle()
            }
            j = i
        }
        return inside
    }

    /// The zone as a GeoJSON polygon: `{"type":"Polygon","coordinates":[[[lon,lat],…,[lon,lat]]]}` with
    /// the first corner repeated last, coordinates with 6 decimals.
    public func polygonJSON() -> JSONValue {
        var positions = ring.map { JSONValue.array([.number(DroneFormat.fixed($0.longitude, decimals: 6)), .number(DroneFormat.fixed($0.latitude, decimals: 6))]) }
        if let first = positions.first { positions.append(first) }
        return .object(JSONObject(["type": .string("Polygon"), "coordinates": .array([.array(positions)])]))
    }
}

/// Where a fleet's depots and no-fly zones are: seeded, so every run with the same seed and fleet size
/// flies over the same map.
public struct FleetLayout: Sendable, Hashable {
    /// How many no-fly zones a layout has.
    public static let zoneCount = 3
    /// The side of a generated no-fly square, in metres.
    public static let zoneSide = 600.0
    /// The least distance from any part of a zone to any depot, in metres.
    public static let zoneDepotClearance = 2_000.0

    /// The area the fleet flies in.
    public let area: FlightArea
    /// `max(1, min(64, drones / 250))` depots, uniformly inside 0.7 × the area's radius.
    public let depots: [GeoPoint]
    /// Each depot's ground altitude in metres above sea level (20…200), parallel to `depots`.
    public let groundAltitudes: [Double]
    /// Three squares of `zoneSide` metres, `nfz-1`…`nfz-3`, each at least `zoneDepotClearance` from every
    /// depot and placed 2.6…5 km from some depot, inside 0.9 × the radius (zones matter where drones fly).
    public let noFlyZones: [NoFlyZone]

    /// A seeded layout for a fleet of `drones`.
    public init(area: FlightArea = FlightArea(), drones: Int, seed: UInt64) {
        self.area = area
        var rng = DroneRandom(seed: seed, stream: 0x4C41_594F_5554)  // "LAYOUT"
        let radius = max(0, area.radiusMeters)
        var depots: [GeoPoint] = [], altitudes: [Double] = []
        for _ in 0..<max(1, min(64, drones / 250)) {
            let distance = 0.7 * radius * rng.unit().squareRoot()
            depots.append(area.center.destination(bearing: rng.uniform(0...GeoMath.fullTurn), distance: distance))
            altitudes.append(rng.uniform(20...200))
        }
        self.depots = depots
        groundAltitudes = altitudes
        noFlyZones = Self.placeZones(area: area, depots: depots, rng: &rng)
    }

    /// The depot drone `index` belongs to: `depots[index % depots.count]`.
    public func depot(forDrone index: Int) -> GeoPoint {
        depots[depotIndex(forDrone: index)]
    }

    /// The ground altitude (m ASL) at drone `index`'s depot.
    public func groundAltitude(forDrone index: Int) -> Double {
        groundAltitudes[depotIndex(forDrone: index)]
    }

    /// The no-fly zones as stream-SQL reference data: a JSON array of
    /// `{"zoneId":"nfz-1","polygon":{"type":"Polygon","coordinates":[[[lon,lat],…]]}}`.
    public func noFlyZonesJSON() -> JSONValue {
        .array(noFlyZones.map { .object(JSONObject(["zoneId": .string($0.id), "polygon": $0.polygonJSON()])) })
    }

    private func depotIndex(forDrone index: Int) -> Int {
        let n = depots.count
        return ((index % n) + n) % n
    }

    /// Tries seeded spots near depots first; if none keeps its distances (a dense 64-depot layout may leave
    /// no room), anywhere in the area, and finally the best spot seen.
    private static func placeZones(area: FlightArea, depots: [GeoPoint], rng: inout DroneRandom) -> [NoFlyZone] {
        let half = zoneSide / 2, halfDiagonal = half * 2.0.squareRoot()
        let limit = 0.9 * max(0, area.radiusMeters)
        var centers: [GeoPoint] = []
        for _ in 0..<zoneCount {
            var best: (point: GeoPoint, score: Double)?
            for attempt in 0..<600 {
                let candidate: GeoPoint
                if attempt < 400 {
                    let depot = depots[rng.integer(in: 0...depots.count - 1)]
                    candidate = depot.destination(bearing: rng.uniform(0...GeoMath.fullTurn), distance: rng.uniform(2_600...5_000))
                } else {
                    candidate = area.center.destination(bearing: rng.uniform(0...GeoMath.fullTurn), distance: limit * rng.unit().squareRoot())
                }
                guard area.center.distance(to: candidate) <= limit else { continue }
                let depotGap = depots.reduce(Double.infinity) { min($0, $1.distance(to: candidate)) } - halfDiagonal - zoneDepotClearance
                let zoneGap = centers.reduce(Double.infinity) { min($0, $1.distance(to: candidate)) } - 1_500
                let score = min(depotGap, zoneGap)
                if best == nil || score > (best?.score ?? 0) { best = (candidate, score) }
                if score >= 0 { break }
            }
            centers.append(best?.point ?? area.center)
        }
        return centers.enumerated().map { i, c in
            NoFlyZone(id: "nfz-\(i + 1)", ring: [
                c.offset(north: -half, east: -half), c.offset(north: -half, east: half),
                c.offset(north: half, east: half), c.offset(north: half, east: -half),
            ])
        }
    }
}
