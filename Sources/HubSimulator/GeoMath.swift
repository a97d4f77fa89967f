#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the Earth's surface: latitude and longitude in degrees (WGS 84, treated as a sphere,
/// which is far more precise than a simulated delivery drone needs).
public struct GeoPoint: Sendable, Hashable {
    /// Degrees north of the equator, -90…90.
    public var latitude: Double
    /// Degrees east of Greenwich, -180…180.
    public var longitude: Double

    /// A point at `latitude`, `longitude` (degrees).
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// Spherical-Earth constants shared by the simulator's geometry.
enum GeoMath {
    /// Mean Earth radius in metres (IUGG).
    static let earthRadius = 6_371_008.8
    static let radiansPerDegree = Double.pi / 180
    static let fullTurn = 2 * Double.pi
}

extension GeoPoint {
    /// Great-circle distance in metres (haversine).
    public func distance(to other: GeoPoint) -> Double {
        let phi1 = latitude * GeoMath.radiansPerDegree, phi2 = other.latitude * GeoMath.radiansPerDegree
        let dPhi = phi2 - phi1, dLambda = (other.longitude - longitude) * GeoMath.radiansPerDegree
        let a = sin(dPhi / 2) * sin(dPhi / 2) + cos(phi1) * cos(phi2) * sin(dLambda / 2) * sin(dLambda / 2)
        return 2 * GeoMath.earthRadius * atan2(a.squareRoot(), max(0, 1 - a).squareRoot())
    }

    /// Initial bearing of the great circle towards `other`, in radians clockwise from north.
    public func bearing(to other: GeoPoint) -> Double {
        let phi1 = latitude * GeoMath.radiansPerDegree, phi2 = other.latitude * GeoMath.radiansPerDegree
        let dLambda = (other.longitude - longitude) * GeoMath.radiansPerDegree
        let y = sin(dLambda) * cos(phi2)
        let x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(dLambda)
        return atan2(y, x)
    }

    /// The point `distance` metres away along the great circle that leaves here at `bearing`
    /// (radians clockwise from north).
    public func destination(bearing: Double, distance: Double) -> GeoPoint {
        let delta = distance / GeoMath.earthRadius
        let phi1 = latitude * GeoMath.radiansPerDegree, lambda1 = longitude * GeoMath.radiansPerDegree
        let sinPhi2 = sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(bearing)
        let phi2 = asin(min(1, max(-1, sinPhi2)))
        let lambda2 = lambda1 + atan2(sin(bearing) * sin(delta) * cos(phi1), cos(delta) - sin(phi1) * sinPhi2)
        var lon = lambda2 / GeoMath.radiansPerDegree
        if lon > 180 { lon -= 360 } else if lon < -180 { lon += 360 }
        return GeoPoint(latitude: phi2 / GeoMath.radiansPerDegree, longitude: lon)
    }

    /// The point `north` and `east` metres away in the local tangent plane (used for small shapes such
    /// as the no-fly squares, whose edges then follow parallels and meridians).
    public func offset(north: Double, east: Double) -> GeoPoint {
        let dLat = north / GeoMath.earthRadius / GeoMath.radiansPerDegree
        let dLon = east / (GeoMath.earthRadius * cos(latitude * GeoMath.radiansPerDegree)) / GeoMath.radiansPerDegree
        return GeoPoint(latitude: latitude + dLat, longitude: longitude + dLon)
    }
}

/// A flat local frame around an origin (equirectangular projection), in metres east (`x`) and north
/// (`y`). Within the ~30 km of a flight area its error is a few metres, well inside the 150 m margin that
/// path checks keep from no-fly zones.
struct LocalFrame {
    let origin: GeoPoint
    private let metresPerDegreeLat = GeoMath.earthRadius * GeoMath.radiansPerDegree
    private let metresPerDegreeLon: Double

    init(origin: GeoPoint) {
        self.origin = origin
        metresPerDegreeLon = GeoMath.earthRadius * GeoMath.radiansPerDegree * cos(origin.latitude * GeoMath.radiansPerDegree)
    }

    func project(_ point: GeoPoint) -> SIMD2<Double> {
        SIMD2((point.longitude - origin.longitude) * metresPerDegreeLon, (point.latitude - origin.latitude) * metresPerDegreeLat)
    }
}

/// Planar helpers on projected points.
enum Planar {
    /// Distance from `p` to the segment `a`–`b`.
    static func distance(_ p: SIMD2<Double>, toSegment a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        let ab = b - a, ap = p - a
        let lengthSquared = (ab * ab).sum()
        let t = lengthSquared > 0 ? min(1, max(0, (ap * ab).sum() / lengthSquared)) : 0
        let d = ap - ab * t
        return (d * d).sum().squareRoot()
    }

    /// Whether the segments `a`–`b` and `c`–`d` cross or touch.
    static func intersect(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>, _ d: SIMD2<Double>) -> Bool {
        func cross(_ o: SIMD2<Double>, _ p: SIMD2<Double>, _ q: SIMD2<Double>) -> Double {
            (p.x - o.x) * (q.y - o.y) - (p.y - o.y) * (q.x - o.x)
        }
        let d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d)
        return ((d1 > 0) != (d2 > 0) || d1 == 0 || d2 == 0) && ((d3 > 0) != (d4 > 0) || d3 == 0 || d4 == 0)
    }

    /// Even-odd ray casting.
    static func contains(_ ring: [SIMD2<Double>], _ p: SIMD2<Double>) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let a = ring[i], b = ring[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Shortest distance between the segment `a`–`b` and the polygon `ring` (0 when they meet or the
    /// segment lies inside).
    static func distance(segment a: SIMD2<Double>, _ b: SIMD2<Double>, toPolygon ring: [SIMD2<Double>]) -> Double {
        guard !ring.isEmpty else { return .infinity }
        if contains(ring, a) || contains(ring, b) { return 0 }
        var best = Double.infinity
        var j = ring.count - 1
        for i in ring.indices {
            let c = ring[j], d = ring[i]
            if intersect(a, b, c, d) { return 0 }
            best = min(best, distance(a, toSegment: c, d), distance(b, toSegment: c, d),
                       distance(c, toSegment: a, b), distance(d, toSegment: a, b))
            j = i
        }
        return best
    }
}
