/// The batch insight of the cold path (`meridian report daily`): per device and UTC day, the messages it
/// sent, how long it flew, how far, how fast, its lowest battery and the alarms raised for it.
///
/// Definitions (documented in the README):
/// - messages: distinct timestamps across the device's measures that day (each message carries one time);
/// - flight time: the gaps between consecutive position (or velocity) samples that start while the device is
///   flying — `flightStatus` = 1 when the device reports it, else a velocity above `movingVelocity` — each
///   gap capped at `maximumGap`, so a drone that goes silent is not counted as flying;
/// - distance: great-circle distance between consecutive positions (altitude changes added in 3-D when the
///   altitude is known), in kilometres; consecutive positions further apart in time than `maximumGap` count too;
/// - average and maximum velocity over the velocity samples; minimum battery over the battery samples.
public struct DailyReport: Sendable {
    /// Which measures the report reads, first name present wins (the simulator writes `position.lat`, line
    /// protocol feeds often `lat`).
    public struct Measures: Sendable, Hashable {
        public var velocity = ["velocity"]
        public var battery = ["batteryLevel"]
        public var latitude = ["position.lat", "lat"]
        public var longitude = ["position.lon", "lon"]
        public var altitude = ["position.alt", "alt"]
        public var flightStatus = ["flightStatus"]

        public init() {}

        /// Every measure name the report may read.
        public var all: [String] { velocity + battery + latitude + longitude + altitude + flightStatus }
    }

    /// One device's samples of the day, each sorted by time.
    public struct Samples: Sendable {
        public var messageTimes: [Int64] = []
        public var velocity: [(time: Int64, value: Double)] = []
        public var battery: [(time: Int64, value: Double)] = []
        public var latitude: [(time: Int64, value: Double)] = []
        public var longitude: [(time: Int64, value: Double)] = []
        public var altitude: [(time: Int64, value: Double)] = []
        public var flightStatus: [(time: Int64, value: Double)] = []

        public init() {}
    }

    /// One row of the report.
    public struct Row: Sendable, Hashable {
        public var deviceId: String
        public var messages: Int
        public var flightSeconds: Double
        public var distanceKilometres: Double
        public var averageVelocity: Double?
        public var maximumVelocity: Double?
        public var minimumBattery: Double?
        public var alarms: Int

        public init(
            deviceId: String, messages: Int, flightSeconds: Double, distanceKilometres: Double, averageVelocity: Double?,
            maximumVelocity: Double?, minimumBattery: Double?, alarms: Int
        ) {
            self.deviceId = deviceId
            self.messages = messages
            self.flightSeconds = flightSeconds
            self.distanceKilometres = distanceKilometres
            self.averageVelocity = averageVelocity
            self.maximumVelocity = maximumVelocity
            self.minimumBattery = minimumBattery
            self.alarms = alarms
        }
    }

    public var measures = Measures()
    /// Velocity above which a device without `flightStatus` counts as flying (the velocity's unit).
    public var movingVelocity = 0.5
    /// Longest gap between samples counted as flight, in milliseconds.
    public var maximumGap: Int64 = 60_000

    public init() {}

    /// The row for one device's day.
    public func row(deviceId: String, samples: Samples, alarms: Int) -> Row {
        var row = Row(
            deviceId: deviceId, messages: Set(samples.messageTimes).count, flightSeconds: 0, distanceKilometres: 0,
            averageVelocity: nil, maximumVelocity: nil, minimumBattery: samples.battery.map(\.value).min(), alarms: alarms)
        if !samples.velocity.isEmpty {
            row.averageVelocity = samples.velocity.reduce(0) { $0 + $1.value } / Double(samples.velocity.count)
            row.maximumVelocity = samples.velocity.map(\.value).max()
        }
        let positions = Self.positions(samples)
        row.distanceKilometres = Self.distance(positions)
        row.flightSeconds = flightSeconds(samples, track: positions.isEmpty ? samples.velocity.map(\.time) : positions.map(\.time))
        return row
    }

    /// Latitude and longitude joined on equal times, with the altitude at that time when there is one.
    static func positions(_ samples: Samples) -> [(time: Int64, lat: Double, lon: Double, alt: Double?)] {
        var out: [(time: Int64, lat: Double, lon: Double, alt: Double?)] = []
        var j = 0
        var k = 0
        for lat in samples.latitude {
            while j < samples.longitude.count, samples.longitude[j].time < lat.time { j += 1 }
            guard j < samples.longitude.count, samples.longitude[j].time == lat.time else { continue }
            while k < samples.altitude.count, samples.altitude[k].time < lat.time { k += 1 }
            let alt = k < samples.altitude.count && samples.altitude[k].time == lat.time ? samples.altitude[k].value : nil
            out.append((lat.time, lat.value, samples.longitude[j].value, alt))
        }
        return out
    }

    /// Kilometres along consecutive positions (haversine on a 6,371 km sphere; altitude in metres).
    static func distance(_ positions: [(time: Int64, lat: Double, lon: Double, alt: Double?)]) -> Double {
        guard positions.count > 1 else { return 0 }
        var total = 0.0
        for i in 1..<positions.count {
            let a = positions[i - 1]
            let b = positions[i]
            var metres = haversineMetres(a.lat, a.lon, b.lat, b.lon)
            if let altA = a.alt, let altB = b.alt {
                let climb = altB - altA
                metres = (metres * metres + climb * climb).squareRoot()
            }
            if metres.isFinite { total += metres }
        }
        return total / 1000
    }

    static func haversineMetres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let s1 = sine(dLat / 2)
        let s2 = sine(dLon / 2)
        let h = s1 * s1 + cosine(lat1 * radians) * cosine(lat2 * radians) * s2 * s2
        return 2 * 6_371_000 * arcsine(min(1, h.squareRoot()))
    }

    /// Seconds of flight along the sample times of `track`.
    func flightSeconds(_ samples: Samples, track: [Int64]) -> Double {
        guard track.count > 1 else { return 0 }
        let useStatus = !samples.flightStatus.isEmpty
        let states = useStatus ? samples.flightStatus : samples.velocity
        var s = 0
        var total: Int64 = 0
        for i in 0..<(track.count - 1) {
            let t = track[i]
            // The state in force at t: the latest state sample at or before t.
            while s + 1 < states.count, states[s + 1].time <= t { s += 1 }
            guard s < states.count, states[s].time <= t else { continue }
            let flying = useStatus ? states[s].value == 1 : states[s].value > movingVelocity
            if flying { total += min(track[i + 1] - t, maximumGap) }
        }
        return Double(total) / 1000
    }
}

// The platform C library's trigonometry (this module does not import Foundation).
#if canImport(Glibc)
    import Glibc
    @inline(__always) func sine(_ x: Double) -> Double { Glibc.sin(x) }
    @inline(__always) func cosine(_ x: Double) -> Double { Glibc.cos(x) }
    @inline(__always) func arcsine(_ x: Double) -> Double { Glibc.asin(x) }
#elseif canImport(Darwin)
    import Darwin
    @inline(__always) func sine(_ x: Double) -> Double { Darwin.sin(x) }
    @inline(__always) func cosine(_ x: Double) -> Double { Darwin.cos(x) }
    @inline(__always) func arcsine(_ x: Double) -> Double { Darwin.asin(x) }
#endif
