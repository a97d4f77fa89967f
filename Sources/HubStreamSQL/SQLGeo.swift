import Foundation

/// Geospatial functions on WGS84 coordinates, in Stream Analytics' GeoJSON shapes:
/// `CreatePoint(lat, lon)` → `{"type":"Point","coordinates":[lon, lat]}`, `CreatePolygon(p1, …, pn)`
/// (closed: the first point repeated last) → `{"type":"Polygon","coordinates":[[[lon, lat], …]]}`,
/// `CreateLineString(p1, …)`. Distances are great-circle (haversine on the mean Earth radius),
/// containment is ray casting on longitude/latitude, fine for geofences of a few kilometres that do not
/// cross the antimeridian or a pole.
enum SQLGeo {
    static let earthRadiusMeters = 6_371_008.8

    typealias Coordinate = (lon: Double, lat: Double)

    static func point(lat: Double, lon: Double) -> SQLValue {
        .record(SQLRecord([("type", .string("Point")), ("coordinates", .array([.float(lon), .float(lat)]))]))
    }

    static func polygon(_ ring: [Coordinate]) -> SQLValue {
        var closed = ring
        if let first = ring.first, let last = ring.last, first != last { closed.append(first) }
        let coordinates = SQLValue.array(closed.map { .array([.float($0.lon), .float($0.lat)]) })
        return .record(SQLRecord([("type", .string("Polygon")), ("coordinates", .array([coordinates]))]))
    }

    static func lineString(_ points: [Coordinate]) -> SQLValue {
        .record(SQLRecord([("type", .string("LineString")), ("coordinates", .array(points.map { .array([.float($0.lon), .float($0.lat)]) }))]))
    }

    /// The shape of a GeoJSON record: its type and coordinates.
    enum Shape {
        case point(Coordinate)
        case lineString([Coordinate])
        /// Outer ring first; holes after it.
        case polygon([[Coordinate]])
    }

    static func shape(_ value: SQLValue) -> Shape? {
        guard case .record(let record) = value, case .string(let type)? = record["type"], let coordinates = record["coordinates"] else { return nil }
        switch type.lowercased() {
        case "point": return coordinate(coordinates).map(Shape.point)
        case "linestring": return coordinateList(coordinates).map(Shape.lineString)
        case "polygon":
            guard case .array(let rings) = coordinates else { return nil }
            var result: [[Coordinate]] = []
            for ring in rings {
                guard let list = coordinateList(ring), list.count >= 3 else { return nil }
                result.append(list)
            }
            return result.isEmpty ? nil : .polygon(result)
        default: return nil
        }
    }

    private static func coordinate(_ value: SQLValue) -> Coordinate? {
        guard case .array(let pair) = value, pair.count >= 2, let lon = pair[0].double, let lat = pair[1].double,
            (-180...180).contains(lon), (-90...90).contains(lat)
        else { return nil }
        return (lon, lat)
    }

    private static func coordinateList(_ value: SQLValue) -> [Coordinate]? {
        guard case .array(let items) = value else { return nil }
        var list: [Coordinate] = []
        for item in items {
            guard let c = coordinate(item) else { return nil }
            list.append(c)
        }
        return list
    }

    /// Great-circle distance in metres.
    static func distance(_ a: Coordinate, _ b: Coordinate) -> Double {
        let φ1 = a.lat * .pi / 180, φ2 = b.lat * .pi / 180
        let dφ = (b.lat - a.lat) * .pi / 180, dλ = (b.lon - a.lon) * .pi / 180
        let h = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
        return 2 * earthRadiusMeters * asin(min(1, sqrt(h)))
    }

    /// Even-odd ray casting: inside the outer ring and outside every hole.
    static func contains(_ rings: [[Coordinate]], _ p: Coordinate) -> Bool {
        func inRing(_ ring: [Coordinate]) -> Bool {
            var inside = false
            var j = ring.count - 1
            for i in 0..<ring.count {
                let a = ring[i], b = ring[j]
                if (a.lat > p.lat) != (b.lat > p.lat) {
                    let x = (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
                    if p.lon < x { inside.toggle() }
                }
                j = i
            }
            return inside
        }
        guard let outer = rings.first, inRing(outer) else { return false }
        return !rings.dropFirst().contains(where: inRing)
    }

    /// Whether segments ab and cd intersect (touching counts).
    static func segmentsIntersect(_ a: Coordinate, _ b: Coordinate, _ c: Coordinate, _ d: Coordinate) -> Bool {
        func orientation(_ p: Coordinate, _ q: Coordinate, _ r: Coordinate) -> Double {
            (q.lon - p.lon) * (r.lat - p.lat) - (q.lat - p.lat) * (r.lon - p.lon)
        }
        func onSegment(_ p: Coordinate, _ q: Coordinate, _ r: Coordinate) -> Bool {
            min(p.lon, q.lon) <= r.lon && r.lon <= max(p.lon, q.lon) && min(p.lat, q.lat) <= r.lat && r.lat <= max(p.lat, q.lat)
        }
        let d1 = orientation(c, d, a), d2 = orientation(c, d, b), d3 = orientation(a, b, c), d4 = orientation(a, b, d)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) || (d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
    }

    /// Segments of a line string or of every ring of a polygon.
    static func segments(_ shape: Shape) -> [(Coordinate, Coordinate)] {
        switch shape {
        case .point: return []
        case .lineString(let points): return zip(points, points.dropFirst()).map { ($0, $1) }
        case .polygon(let rings): return rings.flatMap { ring in zip(ring, ring.dropFirst() + [ring[0]]).map { ($0, $1) } }
        }
    }

    /// `ST_WITHIN(a, b)`: a point or every vertex of a line/polygon inside polygon `b`.
    static func within(_ a: Shape, _ b: Shape) -> Bool {
        guard case .polygon(let rings) = b else { return false }
        switch a {
        case .point(let p): return contains(rings, p)
        case .lineString(let points): return points.allSatisfy { contains(rings, $0) }
        case .polygon(let inner): return inner[0].allSatisfy { contains(rings, $0) }
        }
    }

    /// `ST_INTERSECTS(a, b)`: any crossing segment, or one shape inside the other.
    static func intersects(_ a: Shape, _ b: Shape) -> Bool {
        if case .point(let p) = a {
            if case .point(let q) = b { return p == q }
            return within(a, b) || segments(b).contains { segmentsIntersect($0.0, $0.1, p, p) }
        }
        if case .point = b { return intersects(b, a) }
        for (p, q) in segments(a) where segments(b).contains(where: { segmentsIntersect(p, q, $0.0, $0.1) }) { return true }
        return within(a, b) || within(b, a)
    }

    /// `ST_DISTANCE(a, b)` between points (metres); nil for other shapes.
    static func distance(_ a: Shape, _ b: Shape) -> Double? {
        guard case .point(let p) = a, case .point(let q) = b else { return nil }
        return distance(p, q)
    }
}
